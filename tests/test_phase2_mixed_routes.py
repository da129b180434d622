"""A service half migrated by hand: routes already on an AsyncSession whose dependencies still
receive the synchronous Session (issue 11, soundness point 1, "one request, two Sessions").

Each request held two Sessions: what `get_current_user` loaded belonged to the synchronous one,
so `db.add(user)` on the AsyncSession raised "already attached to session", and a change to
`user` was never committed. `check` reports it (AM319); phase two gives the dependencies async
twins on the route's own async session dependency (AM298), or blocks the route naming why,
never "unchanged". Every migrated shape is RUN (TestClient, aiosqlite; PostgreSQL and MariaDB
where their servers answer) and the test asserts the data was written and that each request
began transactions on exactly one Session.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from phase2_kit import KINDS, run_app
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, function, handler, helper, read, run

SUBSYSTEM = "api/items.py"

# Both stacks exist: the service moved its routes to the AsyncSession by hand.
ENGINE = """
import os
from collections.abc import AsyncIterator, Iterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

URL = os.environ["DATABASE_URL"]
ASYNC_URL = URL.replace("sqlite://", "sqlite+aiosqlite://").replace("mysql+pymysql://", "mysql+aiomysql://")

engine = create_engine(URL)
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)
async_engine = create_async_engine(ASYNC_URL)
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""
MODELS = user_item_models(user='items: Mapped[list["Item"]] = relationship()')
MAIN = """
from fastapi import FastAPI

from api.items import router

app = FastAPI()
app.include_router(router)
"""
DEPS = """
from typing import Annotated

from fastapi import Depends
from fastapi.security import SecurityScopes
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.engine import get_async_db_session, get_db_session
from models import Item, User

SessionDep = Annotated[Session, Depends(get_db_session)]
AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_db_session)]


def get_current_user(db: SessionDep) -> User:
    return db.get(User, 1)


def require_admin(user: Annotated[User, Depends(get_current_user)]) -> User:
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
AdminUser = Annotated[User, Depends(require_admin)]


def scoped_user(scopes: SecurityScopes, db: SessionDep) -> User:
    return db.get(User, 2)


def audit(db: SessionDep) -> None:
    # No commit: the route's commit writes it, on the request's one Session.
    db.add(Item(name="audit", owner_id=1))


class Renamer:
    def __init__(self, db: SessionDep):
        self.db = db

    def rename(self, user_id: int, name: str) -> User:
        user = self.db.get(User, user_id)
        user.name = name
        return user
"""
HEAD = """
from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.engine import get_async_db_session, get_db_session
from models import Item, User

router = APIRouter()
"""
CURRENT_USER = """
def get_current_user(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)
"""
RENAME_ME = """
@router.put("/me")
async def rename_me(name: str, user: User = Depends(get_current_user), db: AsyncSession = Depends(get_async_db_session)):
    user.name = name
    db.add(user)
    await db.commit()
    return {"id": user.id}
"""


@pytest.fixture
def service(project):  # type: ignore[no-untyped-def]
    def build(files: dict[str, str]) -> Path:
        return project({
            "db/__init__.py": "",
            "db/engine.py": ENGINE,
            "core/__init__.py": "",
            "core/deps.py": DEPS,
            "api/__init__.py": "",
            "models.py": MODELS,
            "main.py": MAIN,
            **files,
        })

    return build


def routes(*parts: str, head: str = HEAD) -> str:
    return dedent(head) + "\n\n\n" + "\n\n\n".join(dedent(p) for p in parts) + "\n"


def serve(root: Path, kind: str, script: str) -> dict:
    """Run `script` on a fresh database with `client`, `Sync` (a synchronous sessionmaker for
    checking) and `sessions()` in scope: `sessions()` returns how many Sessions were opened since
    its last call (an AsyncSession counts by the synchronous Session it drives)."""

    prelude = dedent(
        """
        import json

        from fastapi.testclient import TestClient
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        import db.engine as stack
        from db.engine import database_sessionmaker as Sync, engine
        from main import app
        from models import Base, Item, User

        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        with Sync() as s:
            s.add_all([User(id=1, name="Ann"), User(id=2, name="Bob")])
            s.commit()
        opened = []
        session_init = Session.__init__

        def counted_init(self, *args, **kwargs):
            opened.append(id(self))
            session_init(self, *args, **kwargs)

        Session.__init__ = counted_init

        def sessions():
            found = len(opened)
            opened.clear()
            return found

        client = TestClient(app)
        client.__enter__()
        """
    )
    postlude = dedent(
        """
        client.portal.call(stack.async_engine.dispose)
        client.__exit__(None, None, None)
        Base.metadata.drop_all(engine)
        engine.dispose()
        """
    )
    return run_app(root, kind, f"{prelude}\n{dedent(script)}\n{postlude}", timeout=180)  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", KINDS)
def test_a_route_on_an_async_session_gets_the_twin_of_its_sync_dependency_and_its_write_lands(
    cli, service, kind
):
    root = service({SUBSYSTEM: routes(CURRENT_USER, RENAME_ME)})
    document = apply(cli, root)
    found = handler(document, "rename_me")
    assert found["action"] == "migrate" and "AM298" in found["codes"], found
    assert helper(document, "get_current_user")["action"] == "twin"
    assert "user: User = Depends(get_current_user_async), db: AsyncSession = Depends(get_async_db_session)" in (
        function(root, SUBSYSTEM, "rename_me")
    )
    assert function(root, SUBSYSTEM, "get_current_user_async") == dedent(
        """
        async def get_current_user_async(db: AsyncSession = Depends(get_async_db_session)) -> User:
            return await db.get(User, 1)
        """
    )
    # Every parameter keeps its Depends(): no AsyncSession alias is added that nothing uses.
    assert "async_session_dependency" not in read(root, "db/engine.py") + read(root, SUBSYSTEM)
    result = serve(root, kind, """
        sessions()
        response = client.put("/me", params={"name": "Zoe"})
        held = sessions()
        with Sync() as s:
            name = s.get(User, 1).name
        print(json.dumps({"status": response.status_code, "name": name, "sessions": held}))
    """)
    assert result == {"status": 200, "name": "Zoe", "sessions": 1}


def test_before_phase_two_the_request_held_two_sessions_and_check_and_phase_one_say_so(cli, service):
    root = service({SUBSYSTEM: routes(CURRENT_USER, RENAME_ME, """
        @router.get("/health")
        async def health(db: AsyncSession = Depends(get_async_db_session)):
            return {"ok": True}
    """)})
    result = serve(root, "sqlite", """
        sessions()
        try:
            status = client.put("/me", params={"name": "Zoe"}).status_code
        except Exception as error:  # the TestClient re-raises the application's error
            status = type(error).__name__
        held = sessions()
        with Sync() as s:
            name = s.get(User, 1).name
        print(json.dumps({"status": status, "name": name, "sessions": held}))
    """)
    assert result["name"] == "Ann" and result["sessions"] == 2, result
    findings = [f for f in cli.json("check", root)["findings"] if f["code"] == "AM319"]
    assert [f["function"] for f in findings] == ["rename_me"], findings
    assert "api.items.get_current_user" in findings[0]["message"]
    assert "db.add(user)" in findings[0]["message"] and "already attached" in findings[0]["message"]
    phase1 = {h["function"]: h for h in cli.json("phase1", root)["handlers"]}
    assert phase1["rename_me"]["action"] == "keep"
    assert "AM319" in " ".join(phase1["rename_me"]["reasons"])
    # near miss: a route on the AsyncSession alone is no finding, and phase two leaves it
    assert "AM319" not in " ".join(phase1["health"]["reasons"])
    assert handler(cli.json("phase2", root, "--subsystem", SUBSYSTEM), "health")["action"] == "unchanged"


@pytest.mark.parametrize("kind", KINDS)
def test_chains_aliases_security_class_and_router_dependencies_move_to_the_request_s_one_session(
    cli, service, kind
):
    root = service({SUBSYSTEM: routes(
        """
        @router.put("/me")
        async def rename_me(name: str, user: CurrentUser, db: AsyncSessionDep):
            user.name = name
            db.add(user)
            await db.commit()
            return {"ok": True}
        """,
        """
        @router.post("/admin/items")
        async def admin_item(name: str, admin: AdminUser, db: AsyncSessionDep):
            db.add(Item(name=name, owner_id=admin.id))
            await db.commit()
            return {"ok": True}
        """,
        """
        @router.post("/scoped/items")
        async def scoped_item(name: str, db: AsyncSessionDep, user: User = Security(scoped_user, scopes=["items"])):
            user.name = name
            db.add(Item(name=name, owner_id=user.id))
            await db.commit()
            return {"ok": True}
        """,
        """
        @router.put("/users/{user_id}")
        async def rename_user(user_id: int, name: str, db: AsyncSessionDep, renamer: Renamer = Depends()):
            renamer.rename(user_id, name)
            await db.commit()
            return {"ok": True}
        """,
        head="""
        from fastapi import APIRouter, Depends, Security

        from core.deps import AdminUser, AsyncSessionDep, CurrentUser, Renamer, audit, scoped_user
        from models import Item, User

        router = APIRouter(dependencies=[Depends(audit)])
        """,
    )})
    document = apply(cli, root)
    assert {h["function"]: (h["action"], "AM298" in h["codes"]) for h in document["handlers"]} == {
        "rename_me": ("migrate", True), "admin_item": ("migrate", True),
        "scoped_item": ("migrate", True), "rename_user": ("migrate", True),
    }
    source = read(root, SUBSYSTEM)
    assert "router = APIRouter(dependencies=[Depends(audit_async)])" in source
    assert "user: User = Security(scoped_user_async, scopes=[\"items\"])" in source
    assert "admin: AdminUser_async" in source and "user: CurrentUser_async" in source
    deps = read(root, "core/deps.py")
    assert "def require_admin_async(user: Annotated[User, Depends(get_current_user_async)]) -> User:" in deps
    assert "    def __init__(self, db: AsyncSessionDep):" in deps
    result = serve(root, kind, """
        status, held = [], []
        for method, url, name in [("put", "/me", "Zoe"), ("post", "/admin/items", "pen"),
                                  ("post", "/scoped/items", "cup"), ("put", "/users/2", "Max")]:
            sessions()
            status.append(getattr(client, method)(url, params={"name": name}).status_code)
            held.append(sessions())
        with Sync() as s:
            names = [s.get(User, 1).name, s.get(User, 2).name]
            items = sorted(s.scalars(select(Item.name)))
        print(json.dumps({"status": status, "sessions": held, "names": names, "items": items}))
    """)
    # The router's audit row of each request is written by the route's own commit: one Session.
    assert result == {
        "status": [200, 200, 200, 200], "sessions": [1, 1, 1, 1], "names": ["Zoe", "Max"],
        "items": ["audit", "audit", "audit", "audit", "cup", "pen"],
    }


def test_a_route_on_another_async_session_dependency_is_blocked_naming_it(cli, service):
    root = service({SUBSYSTEM: routes(
        CURRENT_USER,
        """
        async def get_other_session():
            async with stack.async_database_sessionmaker() as session:
                yield session
        """,
        """
        @router.put("/me")
        async def rename_me(name: str, user: User = Depends(get_current_user), db: AsyncSession = Depends(get_other_session)):
            user.name = name
            await db.commit()
        """,
    ).replace("from models import", "import db.engine as stack\nfrom models import")})
    document = cli.json("phase2", root, "--subsystem", SUBSYSTEM)
    found = handler(document, "rename_me")
    assert found["action"] == "blocked" and "AM219" in found["codes"], found
    reason = " ".join(found["reasons"])
    assert "`get_other_session`" in reason and "get_async_db_session" in reason and "two Sessions" in reason


def test_an_expired_read_of_the_dependency_s_object_after_the_route_s_commit_blocks(cli, service):
    # With the twin, `user` joins the route's Session, whose commit expires it: the read after the
    # commit would raise MissingGreenlet, where the two Sessions left it loaded.
    root = service({
        "db/engine.py": ENGINE.replace("async_sessionmaker(async_engine, expire_on_commit=False)",
                                       "async_sessionmaker(async_engine)"),
        SUBSYSTEM: routes(CURRENT_USER, RENAME_ME),
    })
    found = handler(cli.json("phase2", root, "--subsystem", SUBSYSTEM), "rename_me")
    assert found["action"] == "blocked", found
    assert "`user.id` is read after `db.commit()`" in " ".join(found["reasons"])


@pytest.mark.parametrize("kind", KINDS)
def test_a_relationship_of_the_dependency_s_object_is_eager_loaded_in_its_twin(cli, service, kind):
    # The twin's query moves with the route: the option goes there (it blocked as a query phase
    # two could not change). Read in the route and through a response model nesting it.
    root = service({SUBSYSTEM: routes(CURRENT_USER, """
        class ItemOut(BaseModel):
            name: str


        class UserOut(BaseModel):
            name: str
            items: list[ItemOut]
        """, """
        @router.get("/me/count")
        async def count_items(user: User = Depends(get_current_user), db: AsyncSession = Depends(get_async_db_session)):
            return {"n": len(user.items)}
        """, """
        @router.get("/me", response_model=UserOut)
        async def me(user: User = Depends(get_current_user), db: AsyncSession = Depends(get_async_db_session)):
            return user
        """, head=HEAD + "from pydantic import BaseModel\n")})
    document = apply(cli, root)
    for name in ("count_items", "me"):
        found = handler(document, name)
        assert found["action"] == "migrate", found
    assert function(root, SUBSYSTEM, "get_current_user_async") == dedent(
        """
        async def get_current_user_async(db: AsyncSession = Depends(get_async_db_session)) -> User:
            return (await db.scalars(select(User).where(User.id == 1).options(selectinload(User.items)))).one_or_none()
        """
    )
    # the synchronous original, which unmigrated code may still call, is left as it was
    assert function(root, SUBSYSTEM, "get_current_user").endswith("return db.get(User, 1)")
    result = serve(root, kind, """
        with Sync() as s:
            s.add_all([Item(name="pen", owner_id=1), Item(name="ink", owner_id=1), Item(name="cup", owner_id=2)])
            s.commit()
        count = client.get("/me/count")
        me = client.get("/me")
        print(json.dumps({"count": [count.status_code, count.json()], "me": [me.status_code, me.json()]}))
    """)
    assert result["count"] == [200, {"n": 2}], result
    assert result["me"][0] == 200, result
    assert sorted(i["name"] for i in result["me"][1]["items"]) == ["ink", "pen"], result


def test_near_miss_a_relationship_of_an_object_a_dependency_on_the_async_session_loads_still_blocks(cli, service):
    # The dependency already runs on the AsyncSession and does not move: phase two adds no option
    # to it, and the reason names it.
    root = service({SUBSYSTEM: routes("""
        async def get_current_user(db: AsyncSession = Depends(get_async_db_session)) -> User:
            return await db.get(User, 1)
        """, """
        @router.get("/me/count")
        async def count_items(user: User = Depends(get_current_user), db: Session = Depends(get_db_session)):
            return {"n": len(user.items), "m": db.get(User, 2).name}
        """)})
    found = handler(cli.json("phase2", root, "--subsystem", SUBSYSTEM), "count_items")
    assert found["action"] == "blocked", found
    reason = " ".join(found["reasons"])
    assert "`user.items`" in reason and "get_current_user" in reason, reason


def test_a_route_on_an_async_session_held_by_a_repository_dependency_is_blocked_not_unchanged(cli, service):
    root = service({SUBSYSTEM: routes(CURRENT_USER, """
        class ItemRepo:
            def __init__(self, db: AsyncSession) -> None:
                self.db = db

            async def add(self, item: Item) -> None:
                self.db.add(item)
                await self.db.commit()
        """, """
        def get_repo(db: AsyncSession = Depends(get_async_db_session)) -> ItemRepo:
            return ItemRepo(db)
        """, """
        @router.post("/me/items")
        async def add_item(name: str, user: User = Depends(get_current_user), repo: ItemRepo = Depends(get_repo)):
            await repo.add(Item(name=name, owner_id=user.id))
        """)})
    found = handler(cli.json("phase2", root, "--subsystem", SUBSYSTEM), "add_item")
    assert found["action"] == "blocked" and found["codes"] == ["AM219"], found
    assert "through its dependency api.items.get_repo" in found["reasons"][0]
    assert "api.items.get_current_user receives the synchronous Session" in found["reasons"][0]
    assert [f["function"] for f in cli.json("check", root)["findings"] if f["code"] == "AM319"] == ["add_item"]


SYNC_ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session
"""


def test_no_async_session_alias_is_generated_when_every_rewritten_parameter_keeps_its_depends(cli, service):
    # Phase two wrote `async_session_dependency = Annotated[AsyncSession, Depends(...)]` beside the
    # generated dependency although every parameter it rewrote kept `= Depends(...)`: dead code.
    root = service({
        "db/engine.py": SYNC_ENGINE,
        "core/deps.py": "",
        SUBSYSTEM: routes("""
            @router.post("/items")
            def create_item(name: str, db: Session = Depends(get_db_session)):
                db.add(Item(name=name, owner_id=1))
                db.commit()
                return {"ok": True}
        """, head=HEAD.replace("from sqlalchemy.ext.asyncio import AsyncSession\n", "").replace(
            "get_async_db_session, ", "")),
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    written = read(root, "db/engine.py") + read(root, SUBSYSTEM)
    assert "async def get_async_db_session" in written and "Annotated" not in written, written
    assert not any("alias" in note for note in document["subsystem"]["follow_ups"]), document["subsystem"]["follow_ups"]
    result = serve(root, "sqlite", """
        sessions()
        status = client.post("/items", params={"name": "pen"}).status_code
        held = sessions()
        with Sync() as s:
            items = list(s.scalars(select(Item.name)))
        print(json.dumps({"status": status, "items": items, "sessions": held}))
    """)
    assert result == {"status": 200, "items": ["pen"], "sessions": 1}


TOUCHING = """
def touch_user(db: Session = Depends(get_db_session)) -> User:
    user = db.get(User, 1)
    user.name = user.name + "."
    db.commit()
    return user


def touch_reader(db: Session = Depends(get_db_session)) -> User:
    user = db.get(User, 1)
    user.name = user.name + "!"
    db.commit()
    return user
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_dependency_twin_refreshes_what_it_committed_only_where_a_route_reads_the_value(cli, service, kind):
    # The async sessionmaker expires on commit. No route reads what touch_user returns (the route
    # only needs it to run): a refresh there was one more query for nothing. touch_reader's value
    # is read, so its twin keeps the refresh (MissingGreenlet without it).
    root = service({
        "db/engine.py": ENGINE.replace("async_sessionmaker(async_engine, expire_on_commit=False)",
                                       "async_sessionmaker(async_engine)"),
        SUBSYSTEM: routes(TOUCHING, """
            @router.post("/ping")
            async def ping(user: User = Depends(touch_user), db: AsyncSession = Depends(get_async_db_session)):
                db.add(Item(name="ping", owner_id=1))
                await db.commit()
                return {"ok": True}
        """, """
            @router.get("/me")
            async def me(user: User = Depends(touch_reader), db: AsyncSession = Depends(get_async_db_session)):
                return {"name": user.name}
        """),
    })
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"ping": "migrate", "me": "migrate"}
    assert "refresh" not in function(root, SUBSYSTEM, "touch_user_async")
    assert "await db.refresh(user)" in function(root, SUBSYSTEM, "touch_reader_async")
    result = serve(root, kind, """
        status = [client.post("/ping").status_code]
        me = client.get("/me")
        status.append(me.status_code)
        with Sync() as s:
            name = s.get(User, 1).name
            items = list(s.scalars(select(Item.name)))
        print(json.dumps({"status": status, "me": me.json(), "name": name, "items": items}))
    """)
    assert result == {"status": [200, 200], "me": {"name": "Ann.!"}, "name": "Ann.!", "items": ["ping"]}


SYNC_HEAD = HEAD.replace("from sqlalchemy.ext.asyncio import AsyncSession\n", "").replace("get_async_db_session, ", "")
ACCOUNT = """
def get_account(db: Session = Depends(get_db_session)) -> Iterator[User]:
    user = db.get(User, 1)
    try:
        yield user
    finally:
        # after the route: what it changed on the account and added is written here
        db.commit()
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_generator_dependency_sharing_the_session_gets_an_async_generator_twin(cli, service, kind):
    # It blocked as AM216 "is a generator", although FastAPI runs async generator dependencies.
    root = service({
        "db/engine.py": SYNC_ENGINE,
        "core/deps.py": "",
        SUBSYSTEM: routes(ACCOUNT, """
            @router.put("/me")
            def rename_me(name: str, user: User = Depends(get_account), db: Session = Depends(get_db_session)):
                user.name = name
                db.add(Item(name="renamed", owner_id=user.id))
                return {"id": user.id}
        """, head="\nfrom collections.abc import Iterator\n" + SYNC_HEAD),
    })
    document = apply(cli, root)
    found = handler(document, "rename_me")
    assert found["action"] == "migrate", found
    assert function(root, SUBSYSTEM, "get_account_async") == dedent(
        """
        async def get_account_async(db: AsyncSession = Depends(get_async_db_session)) -> AsyncIterator[User]:
            user = await db.get(User, 1)
            try:
                yield user
            finally:
                # after the route: what it changed on the account and added is written here
                await db.commit()
        """
    )
    assert "from collections.abc import AsyncIterator, Iterator" in read(root, SUBSYSTEM)
    result = serve(root, kind, """
        sessions()
        response = client.put("/me", params={"name": "Zoe"})
        held = sessions()
        with Sync() as s:
            name = s.get(User, 1).name
            items = list(s.scalars(select(Item.name)))
        print(json.dumps({"status": response.status_code, "name": name, "items": items, "sessions": held}))
    """)
    assert result == {"status": 200, "name": "Zoe", "items": ["renamed"], "sessions": 1}


def test_near_miss_a_generator_dependency_yielding_from_a_helper_stays_blocked(cli, service):
    # `yield from` has no async form: the twin cannot be an async generator.
    root = service({
        "db/engine.py": SYNC_ENGINE,
        "core/deps.py": "",
        SUBSYSTEM: routes("""
            def get_account(db: Session = Depends(get_db_session)) -> Iterator[User]:
                yield from [db.get(User, 1)]
                db.commit()
        """, """
            @router.put("/me")
            def rename_me(name: str, user: User = Depends(get_account), db: Session = Depends(get_db_session)):
                user.name = name
                db.add(Item(name="renamed", owner_id=user.id))
                return {"id": user.id}
        """, head="\nfrom collections.abc import Iterator\n" + SYNC_HEAD),
    })
    found = handler(cli.json("phase2", root, "--subsystem", SUBSYSTEM), "rename_me")
    assert found["action"] == "blocked" and "AM216" in found["codes"], found
    line = read(root, SUBSYSTEM).splitlines().index("def get_account(db: Session = Depends(get_db_session)) -> Iterator[User]:")
    assert f"api/items.py:{line + 1}: `get_account` is a generator" in " ".join(found["reasons"]), found


def test_a_generator_dependency_annotated_generator_gets_an_async_generator_annotation(cli, service):
    root = service({
        "db/engine.py": SYNC_ENGINE,
        "core/deps.py": "",
        SUBSYSTEM: routes(ACCOUNT.replace("Iterator[User]", "Generator[User, None, None]"), """
            @router.put("/me")
            def rename_me(name: str, user: User = Depends(get_account), db: Session = Depends(get_db_session)):
                user.name = name
                db.add(Item(name="renamed", owner_id=user.id))
                return {"id": user.id}
        """, head="\nfrom collections.abc import Generator\n" + SYNC_HEAD),
    })
    document = apply(cli, root)
    assert handler(document, "rename_me")["action"] == "migrate"
    assert function(root, SUBSYSTEM, "get_account_async").startswith(
        "async def get_account_async(db: AsyncSession = Depends(get_async_db_session)) -> AsyncGenerator[User, None]:"
    )
    assert "from collections.abc import AsyncGenerator, Generator" in read(root, SUBSYSTEM)


# A route taking both Sessions: its own synchronous one, which phase two moves to the stack's
# async dependency, and the AsyncSession it already had from that dependency. At run time they
# become one AsyncSession (FastAPI caches the dependency per request): a commit on either name
# expires what the other loaded: `item` is read after the synchronous commit (a read after
# `audit_db.commit()` too would block: phase two refreshes only after the commits it rewrites).
BOTH_SESSIONS = """
@router.post("/items/{item_id}/rename")
async def rename_item(
    item_id: int,
    name: str,
    db: Session = Depends(get_db_session),
    audit_db: AsyncSession = Depends(get_async_db_session),
):
    item = db.get(Item, item_id)
    item.name = name
    db.commit()
    audit_db.add(Item(name=f"renamed {item.id}", owner_id=item.owner_id))
    await audit_db.commit()
    return {"renamed": item_id}
"""
BOTH_SCRIPT = """
    with Sync() as s:
        s.add(Item(id=7, name="old", owner_id=1))
        s.commit()
    response = client.post("/items/7/rename", params={"name": "new"})
    with Sync() as s:
        names = sorted(s.scalars(select(Item.name)).all())
    print(json.dumps({"status": response.status_code, "body": response.json(), "names": names}))
"""


# Also with a dependency still on the synchronous Session, whose twin joins the same AsyncSession.
WITH_USER = BOTH_SESSIONS.replace(
    "    audit_db: AsyncSession = Depends(get_async_db_session),\n",
    "    audit_db: AsyncSession = Depends(get_async_db_session),\n    user: User = Depends(get_current_user),\n",
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("parts", [(BOTH_SESSIONS,), (CURRENT_USER, WITH_USER)], ids=["own", "dependency"])
def test_a_route_taking_both_sessions_refreshes_what_its_own_commit_expires_on_the_one_async_session(
    cli, service, kind, parts
):
    root = service({
        "db/engine.py": ENGINE.replace("async_sessionmaker(async_engine, expire_on_commit=False)",
                                       "async_sessionmaker(async_engine)"),
        SUBSYSTEM: routes(*parts),
    })
    found = handler(apply(cli, root), "rename_item")
    assert found["action"] == "migrate", found
    body = function(root, SUBSYSTEM, "rename_item")
    assert "db: AsyncSession = Depends(get_async_db_session)" in body, body
    assert "await db.commit()\n    if item is not None:\n        await db.refresh(item)\n" in body, body
    result = serve(root, kind, BOTH_SCRIPT)
    assert result == {"status": 200, "body": {"renamed": 7}, "names": ["new", "renamed 7"]}, result


def test_near_miss_a_route_taking_both_sessions_on_a_stack_that_keeps_objects_gets_no_refresh(cli, service):
    root = service({SUBSYSTEM: routes(BOTH_SESSIONS)})
    assert handler(apply(cli, root), "rename_item")["action"] == "migrate"
    assert "refresh" not in function(root, SUBSYSTEM, "rename_item")
    assert serve(root, "sqlite", BOTH_SCRIPT)["names"] == ["new", "renamed 7"]


# Routes migrated by hand onto a repository generic over the session type, whose synchronous
# sibling other routes still build, and onto their own AsyncSession's commits; only
# `get_current_user` is left on the synchronous Session, whose sessionmaker expires on commit.
GENERIC_HEAD = HEAD.replace("from fastapi import APIRouter, Depends\n", (
    "from typing import Generic, TypeVar\n\nfrom fastapi import APIRouter, Depends\nfrom sqlalchemy import select\n"
))
GENERIC = """
SessionT = TypeVar("SessionT", Session, AsyncSession)


class Repository(Generic[SessionT]):
    def __init__(self, session: SessionT) -> None:
        self.session = session


class SyncItems(Repository[Session]):
    def count(self) -> int:
        return len(self.session.scalars(select(Item)).all())


class AsyncItems(Repository[AsyncSession]):
    async def add(self, name: str, owner_id: int) -> Item:
        item = Item(name=name, owner_id=owner_id)
        self.session.add(item)
        await self.session.commit()
        return item


@router.get("/items/count")
def count_items(db: Session = Depends(get_db_session)):
    return {"n": SyncItems(db).count()}


@router.post("/items")
async def add_item(name: str, user: User = Depends(get_current_user), db: AsyncSession = Depends(get_async_db_session)):
    item = await AsyncItems(db).add(name, user.id)
    return {"id": item.id}


@router.put("/items/{item_id}")
async def rename_item(
    item_id: int, name: str, user: User = Depends(get_current_user), db: AsyncSession = Depends(get_async_db_session)
):
    item = await db.get(Item, item_id)
    item.name = name
    await db.commit()
    return {"id": item.id, "name": item.name, "by": user.name}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_routes_already_on_the_async_session_of_a_generic_repository_move_their_dependency_and_run(
    cli, service, kind
):
    # The self-check read `AsyncItems(db)` as the AsyncSession handed to the synchronous
    # `Repository.__init__` (SyncItems(db) hands it a Session), and the commit on the route's own
    # AsyncSession as one whose reads the synchronous sessionmaker had reloaded: both blocked.
    root = service({
        "db/engine.py": ENGINE.replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)"),
        SUBSYSTEM: routes(CURRENT_USER, GENERIC, head=GENERIC_HEAD),
    })
    document = apply(cli, root)
    for name in ("add_item", "rename_item"):
        found = handler(document, name)
        assert found["action"] == "migrate" and "AM298" in found["codes"], found
    assert "refresh" not in function(root, SUBSYSTEM, "rename_item")
    result = serve(root, kind, """
        sessions()
        added = client.post("/items", params={"name": "pen"})
        renamed = client.put(f"/items/{added.json()['id']}", params={"name": "ink"})
        held = sessions()
        with Sync() as s:
            names = s.scalars(select(Item.name)).all()
        print(json.dumps({"status": [added.status_code, renamed.status_code], "body": renamed.json(),
                          "names": names, "count": client.get("/items/count").json(), "sessions": held}))
    """)
    assert result == {
        "status": [200, 200], "body": {"id": 1, "name": "ink", "by": "Ann"}, "names": ["ink"],
        "count": {"n": 1}, "sessions": 2,
    }, result


# The async engine's URL from a project function swapping the driver per database: the same
# database, so the hand-written stack is reused (it blocked as another database, AM243).
HELPER_ENGINE = ENGINE.replace(
    'ASYNC_URL = URL.replace("sqlite://", "sqlite+aiosqlite://").replace("mysql+pymysql://", "mysql+aiomysql://")',
    "ASYNC_URL = to_async_url(URL)",
).replace('URL = os.environ["DATABASE_URL"]\n', '''

def to_async_url(url: str) -> str:
    if url.startswith("sqlite://"):
        return url.replace("sqlite://", "sqlite+aiosqlite://", 1)
    if url.startswith("mysql+pymysql://"):
        return url.replace("mysql+pymysql://", "mysql+aiomysql://", 1)
    return url


URL = os.environ["DATABASE_URL"]
''')


@pytest.mark.parametrize("kind", KINDS)
def test_an_async_engine_on_a_project_url_helper_is_reused_and_the_write_lands(cli, service, kind):
    assert "ASYNC_URL = to_async_url(URL)" in HELPER_ENGINE
    root = service({"db/engine.py": HELPER_ENGINE, SUBSYSTEM: routes(CURRENT_USER, RENAME_ME)})
    document = apply(cli, root)
    assert handler(document, "rename_me")["action"] == "migrate", handler(document, "rename_me")
    assert "create_async_engine" not in read(root, "db/engine.py").split("async_engine = create_async_engine(ASYNC_URL)")[1]
    result = serve(root, kind, """
        response = client.put("/me", params={"name": "Zoe"})
        with Sync() as s:
            name = s.get(User, 1).name
        print(json.dumps({"status": response.status_code, "name": name}))
    """)
    assert result == {"status": 200, "name": "Zoe"}


# The same repository generic by Python 3.12's type parameters (PEP 695).
GENERIC_PEP695 = GENERIC.replace('SessionT = TypeVar("SessionT", Session, AsyncSession)\n', "").replace(
    "class Repository(Generic[SessionT]):", "class Repository[SessionT: (Session, AsyncSession)]:"
)
assert "TypeVar" not in GENERIC_PEP695 and "[SessionT: (Session, AsyncSession)]" in GENERIC_PEP695


def test_routes_on_a_repository_generic_by_type_parameters_migrate_as_by_typevars_and_run(cli, service):
    # Python 3.12 read the parameters itself and the analysis ignored them: `self.session` was
    # the join of what both subclasses are built with, and the self-check blocked the routes.
    root = service({
        "db/engine.py": ENGINE.replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)"),
        SUBSYSTEM: routes(CURRENT_USER, GENERIC_PEP695, head=HEAD.replace(
            "from fastapi import APIRouter, Depends\n", "from fastapi import APIRouter, Depends\nfrom sqlalchemy import select\n"
        )),
    })
    # the migrated module, as the original, parses for `ast` from Python 3.12 on only
    document = apply(cli, root) if sys.version_info >= (3, 12) else run(cli, root, "--apply", "--allow-dirty")
    for name in ("add_item", "rename_item"):
        found = handler(document, name)
        assert found["action"] == "migrate" and "AM298" in found["codes"], found
    if sys.version_info < (3, 12):
        return  # the service itself needs Python 3.12 to run
    result = serve(root, "sqlite", """
        added = client.post("/items", params={"name": "pen"})
        renamed = client.put(f"/items/{added.json()['id']}", params={"name": "ink"})
        print(json.dumps({"status": [added.status_code, renamed.status_code], "count": client.get("/items/count").json()}))
    """)
    assert result == {"status": [200, 200], "count": {"n": 1}}, result
