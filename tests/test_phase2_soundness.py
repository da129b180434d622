"""Phase two never emits code that misbehaves: each shape is migrated and then RUN.

Every test builds a small FastAPI application on a synchronous stack, runs
`async-migrate phase2 --apply` on it, serves the result with FastAPI's TestClient
(through the generated async stack: aiosqlite, psycopg's async driver on
PostgreSQL, aiomysql on MariaDB) and asserts, by reading the database through a
separate synchronous session, that the data really was written or the right
error was raised. Where the tool blocks a shape instead of migrating it, the test
asserts the block names the cause, and the unchanged code still works.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
from phase2_kit import KINDS, run_app
from phase2_models import user_item_models
from sample import run_python
from test_phase2_rules import apply, dedent, function, handler, helper, read

SUBSYSTEM = "api/items.py"

ENGINE = """
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
DEPENDENCIES = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session

session_dependency = Annotated[Session, Depends(get_db_session)]
"""
MODELS = user_item_models(orm='')
MAIN = """
from fastapi import FastAPI

from api.items import router

app = FastAPI()
app.include_router(router)
"""
HEAD = """
from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.dependencies import session_dependency
from db.engine import get_db_session
from models import Item, User

router = APIRouter()
"""


@pytest.fixture
def service(project):  # type: ignore[no-untyped-def]
    """service({"api/items.py": "..."}) -> root of an application on the sync stack."""

    def build(files: dict[str, str]) -> Path:
        return project({
            "db/__init__.py": "",
            "db/engine.py": ENGINE,
            "core/__init__.py": "",
            "core/dependencies.py": DEPENDENCIES,
            "api/__init__.py": "",
            "models.py": MODELS,
            "main.py": MAIN,
            **files,
        })

    return build


def routes(*parts: str) -> str:
    return dedent(HEAD) + "\n\n\n" + "\n\n\n".join(dedent(p) for p in parts) + "\n"


def serve(root: Path, kind: str, script: str) -> object:
    """Run `script` against the application on a fresh database of `kind`, with `client`
    (a TestClient of main.app) and `Sync` (a synchronous sessionmaker for checking) in
    scope; the last line it prints is JSON."""
    prelude = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlalchemy import func, select

        import db.engine as stack
        from db.engine import database_sessionmaker as Sync, engine
        from main import app
        from models import Base, Item, User

        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        with Sync() as s:
            s.add_all([User(id=1, name="Ann"), User(id=2, name="Bob")])
            s.commit()
        # One event loop for every request: pooled async connections belong to the loop that made them.
        client = TestClient(app)
        client.__enter__()
        """
    )
    postlude = dedent(
        """
        if hasattr(stack, "async_engine"):
            client.portal.call(stack.async_engine.dispose)
        client.__exit__(None, None, None)
        Base.metadata.drop_all(engine)
        engine.dispose()
        """
    )
    return run_app(root, kind, f"{prelude}\n{dedent(script)}\n{postlude}")


# ------------------------------------------- 1. one request, one Session


CURRENT_USER = """
def get_current_user(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_1_a_dependency_sharing_the_session_keeps_one_session_per_request(cli, service, kind):
    root = service({
        SUBSYSTEM: routes(
            CURRENT_USER,
            """
            @router.put("/me")
            async def rename_me(name: str, user: User = Depends(get_current_user), db: Session = Depends(get_db_session)):
                user.name = name
                db.commit()
                return {"id": user.id}
            """,
        )
    })
    document = apply(cli, root)
    found = handler(document, "rename_me")
    result = serve(root, kind, """
        response = client.put("/me", params={"name": "Zoe"})
        with Sync() as s:
            name = s.get(User, 1).name
        print(json.dumps({"status": response.status_code, "name": name}))
    """)
    assert result == {"status": 200, "name": "Zoe"}
    assert found["action"] == "migrate"
    # the request's one Session is the AsyncSession, shared with the dependency's async twin
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


@pytest.mark.parametrize("kind", KINDS)
def test_1_adding_an_object_from_the_dependency_raises_no_already_attached(cli, service, kind):
    root = service({
        SUBSYSTEM: routes(
            CURRENT_USER,
            """
            @router.post("/me/items")
            def add_item(name: str, user: User = Depends(get_current_user), db: Session = Depends(get_db_session)):
                user.name = user.name + "!"
                db.add(user)
                db.add(Item(name=name, owner_id=user.id))
                db.commit()
                return {"ok": True}
            """,
        )
    })
    apply(cli, root)
    result = serve(root, kind, """
        response = client.post("/me/items", params={"name": "pen"})
        with Sync() as s:
            items = s.scalars(select(Item.name)).all()
            name = s.get(User, 1).name
        print(json.dumps({"status": response.status_code, "items": list(items), "name": name}))
    """)
    assert result == {"status": 200, "items": ["pen"], "name": "Ann!"}


ADMIN_DEPENDENCIES = DEPENDENCIES + """

def get_current_user(session: session_dependency) -> User:
    return session.get(User, 1)


def require_admin(user: Annotated[User, Depends(get_current_user)]) -> User:
    return user


current_user_dependency = Annotated[User, Depends(get_current_user)]
admin_dependency = Annotated[User, Depends(require_admin)]
"""


@pytest.mark.parametrize("kind", KINDS)
def test_1_aliases_decorator_dependencies_and_chains_move_with_the_route(cli, service, kind):
    root = service({
        "core/dependencies.py": ADMIN_DEPENDENCIES.replace(
            "from db.engine import get_db_session", "from db.engine import get_db_session\nfrom models import User"
        ),
        SUBSYSTEM: routes(
            """
            @router.post("/items", dependencies=[Depends(require_admin)])
            def create_item(name: str, db: session_dependency):
                db.add(Item(name=name, owner_id=1))
                db.commit()
            """,
            """
            @router.put("/me")
            def rename_me(name: str, user: current_user_dependency, admin: admin_dependency, db: session_dependency):
                user.name = name
                db.commit()
            """,
            """
            @router.get("/me")
            def read_me(user: current_user_dependency):
                return {"name": user.name}
            """,
        ).replace(
            "from core.dependencies import session_dependency",
            "from core.dependencies import admin_dependency, current_user_dependency, require_admin, session_dependency",
        ),
    })
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_item": "migrate", "rename_me": "migrate", "read_me": "unchanged",
    }
    deps = read(root, "core/dependencies.py")
    assert "current_user_dependency_async = Annotated[User, Depends(get_current_user_async)]" in deps
    assert "admin_dependency_async = Annotated[User, Depends(require_admin_async)]" in deps
    # a dependency twin without Session work stays a plain def, pointed at the twin below it
    assert function(root, "core/dependencies.py", "require_admin_async") == dedent(
        """
        def require_admin_async(user: Annotated[User, Depends(get_current_user_async)]) -> User:
            return user
        """
    )
    assert "@router.post(\"/items\", dependencies=[Depends(require_admin_async)])" in read(root, SUBSYSTEM)
    assert "user: current_user_dependency_async, admin: admin_dependency_async" in function(root, SUBSYSTEM, "rename_me")
    # the route left on the sync path keeps the sync dependency
    assert "user: current_user_dependency)" in function(root, SUBSYSTEM, "read_me")
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "pen"}).status_code
        renamed = client.put("/me", params={"name": "Zoe"}).status_code
        me = client.get("/me").json()
        with Sync() as s:
            items = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": [created, renamed], "me": me, "items": items}))
    """)
    assert result == {"status": [200, 200], "me": {"name": "Zoe"}, "items": ["pen"]}


AUDITED = """
def audit(db: Session = Depends(get_db_session)) -> None:
    # No commit here: the route's commit writes it, on the request's one Session.
    db.add(Item(name="audit", owner_id=1))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_1_a_router_level_dependency_sharing_the_session_moves_to_its_twin_with_the_router(cli, service, kind):
    root = service({
        SUBSYSTEM: routes(
            AUDITED,
            """
            @router.put("/me")
            async def rename_me(name: str, db: session_dependency):
                db.get(User, 1).name = name
                db.commit()


            @router.get("/health")
            async def health():
                return {"ok": True}
            """,
        ).replace("router = APIRouter()", "").replace(
            "\n\n\n@router.put", "\n\n\nrouter = APIRouter(dependencies=[Depends(audit)])\n\n\n@router.put"
        ),
    })
    document = apply(cli, root)
    assert handler(document, "rename_me")["action"] == "migrate"
    source = read(root, SUBSYSTEM)
    assert "router = APIRouter(dependencies=[Depends(audit_async)])" in source
    assert "\nasync def audit_async(db: AsyncSession = Depends(" in source
    result = serve(root, kind, """
        renamed = client.put("/me", params={"name": "Zoe"}).status_code
        healthy = client.get("/health").status_code
        with Sync() as s:
            name = s.get(User, 1).name
            audits = s.scalar(select(func.count(Item.id)).where(Item.name == "audit"))
        print(json.dumps({"status": [renamed, healthy], "name": name, "audits": audits}))
    """)
    # The audit row added by the router's dependency is written by the route's commit: one Session.
    assert result == {"status": [200, 200], "name": "Zoe", "audits": 1}


def test_1_a_router_level_dependency_sharing_the_session_blocks_while_a_route_stays(cli, service):
    root = service({
        SUBSYSTEM: routes(
            AUDITED,
            """
            @router.put("/me")
            def rename_me(name: str, db: session_dependency):
                db.get(User, 1).name = name
                db.commit()
            """,
        ).replace("router = APIRouter()", "").replace(
            "\n\n\n@router.put", "\n\n\nrouter = APIRouter(dependencies=[Depends(audit)])\n\n\n@router.put"
        ),
        "api/more.py": dedent("""
            from core.dependencies import session_dependency
            from api.items import router


            @router.websocket("/feed")
            async def feed(websocket, db: session_dependency):
                await websocket.send_json(db.scalar(select(func.count(Item.id))))
        """),
    })
    document = apply(cli, root)
    found = handler(document, "rename_me")
    assert found["action"] == "blocked"
    assert "dependency api.items.audit receives the synchronous Session too" in found["reasons"][0]
    assert "api.more.feed stays on the synchronous Session" in found["reasons"][0]
    assert document["files_changed"] == []


# `api = APIRouter(dependencies=[Depends(audit)])` including the subsystem's router: FastAPI runs the
# list above the route too.
PARENT_MAIN = """
from fastapi import APIRouter, Depends, FastAPI

from api.items import audit, router

api = APIRouter(dependencies=[Depends(audit)])
api.include_router(router)
app = FastAPI()
app.include_router(api)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_1_a_parent_router_dependency_sharing_the_session_moves_to_its_twin(cli, service, kind):
    root = service({
        "main.py": PARENT_MAIN,
        SUBSYSTEM: routes(
            AUDITED,
            """
            @router.put("/me")
            async def rename_me(name: str, db: session_dependency):
                db.get(User, 1).name = name
                db.commit()
            """,
        ),
    })
    document = apply(cli, root)
    assert handler(document, "rename_me")["action"] == "migrate"
    assert "api = APIRouter(dependencies=[Depends(audit_async)])" in read(root, "main.py")
    result = serve(root, kind, """
        renamed = client.put("/me", params={"name": "Zoe"}).status_code
        with Sync() as s:
            name = s.get(User, 1).name
            audits = s.scalar(select(func.count(Item.id)).where(Item.name == "audit"))
        print(json.dumps({"status": renamed, "name": name, "audits": audits}))
    """)
    # The parent router's audit row is written by the route's commit: one Session a request.
    assert result == {"status": 200, "name": "Zoe", "audits": 1}


def test_1_a_parent_router_dependency_sharing_the_session_blocks_while_a_route_under_it_stays(cli, service):
    root = service({
        "main.py": PARENT_MAIN.replace("api.include_router(router)", "api.include_router(router)\napi.include_router(more)")
        .replace("from api.items import audit, router", "from api.items import audit, router\nfrom api.more import router as more"),
        SUBSYSTEM: routes(
            AUDITED,
            """
            @router.put("/me")
            async def rename_me(name: str, db: session_dependency):
                db.get(User, 1).name = name
                db.commit()
            """,
        ),
        "api/more.py": dedent("""
            from fastapi import APIRouter
            from sqlalchemy import func, select

            from core.dependencies import session_dependency
            from models import Item

            router = APIRouter()


            @router.get("/count")
            def count(db: session_dependency):
                return db.scalar(select(func.count(Item.id)))
        """),
    })
    found = handler(apply(cli, root), "rename_me")
    assert found["action"] == "blocked"
    assert "the router `main.api`" in found["reasons"][0] and "api.more.count stays" in found["reasons"][0]


def test_1_a_parent_router_dependency_blocks_while_a_route_of_a_router_an_instance_builds_stays(cli, service):
    # `self.router = APIRouter()` in a view class, included in the parent: the index places its
    # route under the parent only through the include of the instance's router.
    root = service({
        "main.py": PARENT_MAIN.replace("api.include_router(router)", "api.include_router(router)\napi.include_router(view.router)")
        .replace("from api.items import audit, router", "from api.items import audit, router\nfrom api.more import view"),
        SUBSYSTEM: routes(
            AUDITED,
            """
            @router.put("/me")
            async def rename_me(name: str, db: session_dependency):
                db.get(User, 1).name = name
                db.commit()
            """,
        ),
        "api/more.py": dedent("""
            from fastapi import APIRouter
            from sqlalchemy import func, select

            from core.dependencies import session_dependency
            from models import Item


            class CountView:
                def __init__(self) -> None:
                    self.router = APIRouter()

                    @self.router.get("/count")
                    def count(db: session_dependency):
                        return db.scalar(select(func.count(Item.id)))


            view = CountView()
        """),
    })
    found = handler(apply(cli, root), "rename_me")
    assert found["action"] == "blocked"
    assert "the router `main.api`" in found["reasons"][0] and "CountView.__init__.<locals>.count stays" in found["reasons"][0]


AUDIT_CALLABLE = """
class Audit:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, db: Session = Depends(get_db_session)) -> None:
        db.add(Item(name=self.name, owner_id=1))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_1_a_callable_instance_a_router_lists_moves_with_its_routes(cli, service, kind):
    # `APIRouter(dependencies=[Depends(Audit("audit"))])`: an instance built in the list itself.
    root = service({
        SUBSYSTEM: routes(
            AUDIT_CALLABLE,
            """
            @router.put("/me")
            async def rename_me(name: str, db: session_dependency):
                db.get(User, 1).name = name
                db.commit()
            """,
        ).replace("router = APIRouter()", "").replace(
            "\n\n\n@router.put", '\n\n\nrouter = APIRouter(dependencies=[Depends(Audit("audit"))])\n\n\n@router.put'
        ),
    })
    document = apply(cli, root)
    assert handler(document, "rename_me")["action"] == "migrate"
    assert "    async def __call__(self, db: AsyncSession = Depends(" in read(root, SUBSYSTEM)
    result = serve(root, kind, """
        renamed = client.put("/me", params={"name": "Zoe"}).status_code
        with Sync() as s:
            name = s.get(User, 1).name
            audits = s.scalar(select(func.count(Item.id)).where(Item.name == "audit"))
        print(json.dumps({"status": renamed, "name": name, "audits": audits}))
    """)
    assert result == {"status": 200, "name": "Zoe", "audits": 1}


CALLABLE = """
class CurrentUser:
    def __init__(self, cost: int) -> None:
        self.cost = cost

    def __call__(self, db: Session = Depends(get_db_session)) -> User:
        user = db.get(User, 1)
        user.name = user.name + "!" * self.cost
        return user


charged = CurrentUser(cost=1)
"""
CALLABLE_ROUTE = """
@router.post("/items")
def create_item(name: str, user: User = Depends(charged), db: Session = Depends(get_db_session)):
    db.add(Item(name=name, owner_id=user.id))
    db.commit()
    return {"owner": user.name}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_1_a_callable_instance_dependency_sharing_the_session_moves_in_place_and_keeps_one_session(
    cli, service, kind
):
    root = service({SUBSYSTEM: routes(CALLABLE, CALLABLE_ROUTE)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert helper(document, "CurrentUser.__call__")["codes"] == ["AM267"]
    text = read(root, SUBSYSTEM)
    assert "    async def __call__(self, db: AsyncSession = Depends(get_async_db_session)) -> User:" in text
    assert "charged = CurrentUser(cost=1)" in text and "user: User = Depends(charged)" in text
    # The dependency's change to the user is saved by the route's commit: one Session per request.
    assert serve(root, kind, """
        answer = client.post("/items", params={"name": "a"}).json()
        with Sync() as s:
            rows = [(i.name, i.owner_id) for i in s.scalars(select(Item))]
            owner = s.get(User, 1).name
        print(json.dumps({"answer": answer, "rows": rows, "owner": owner}))
    """) == {"answer": {"owner": "Ann!"}, "rows": [["a", 1]], "owner": "Ann!"}


def test_1_a_callable_instance_dependency_also_called_directly_blocks_naming_the_caller(cli, service):
    root = service({
        SUBSYSTEM: routes(CALLABLE, CALLABLE_ROUTE, """
            @router.get("/whoami")
            def whoami(db: Session = Depends(get_db_session)):
                return {"name": charged(db).name}
            """),
    })
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    assert "dependency api.items.CurrentUser.__call__ receives the synchronous Session too" in found["reasons"][0]
    assert "is also called directly (api.items.whoami)" in found["reasons"][0]
    assert "async def __call__" not in read(root, SUBSYSTEM)


def test_1_a_callable_instance_dependency_a_websocket_injects_too_blocks_with_am268(cli, service):
    root = service({
        SUBSYSTEM: routes(CALLABLE, CALLABLE_ROUTE, """
            @router.websocket("/feed")
            async def feed(websocket, user: User = Depends(charged)):
                await websocket.send_json(user.name)
            """),
    })
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked" and "AM268" in found["codes"], found
    assert document["files_changed"] == []


def test_1_near_miss_a_dependency_without_the_session_does_not_block(cli, service):
    root = service({
        SUBSYSTEM: routes(
            """
            def get_limit(limit: int = 10) -> int:
                return limit
            """,
            """
            @router.get("/items")
            def list_items(limit: int = Depends(get_limit), db: Session = Depends(get_db_session)):
                return list(db.scalars(select(Item.name).limit(limit)).all())
            """,
        )
    })
    document = apply(cli, root)
    assert handler(document, "list_items")["action"] == "migrate"


# --------------------------------------- 2. async helpers taking a sync Session


@pytest.mark.parametrize("kind", KINDS)
def test_2_an_async_helper_taking_the_session_is_migrated_and_its_writes_land(cli, service, kind):
    root = service({
        SUBSYSTEM: routes(
            """
            async def store(db: Session, name: str) -> None:
                db.add(Item(name=name, owner_id=1))
                db.commit()
            """,
            """
            @router.post("/items")
            async def create_item(name: str, db: session_dependency):
                await store(db, name)
                return {"ok": True}
            """,
        )
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert helper(document, "store")["action"] == "migrate"
    assert function(root, SUBSYSTEM, "store") == dedent(
        """
        async def store(db: AsyncSession, name: str) -> None:
            db.add(Item(name=name, owner_id=1))
            await db.commit()
        """
    )
    result = serve(root, kind, """
        response = client.post("/items", params={"name": "pen"})
        with Sync() as s:
            items = s.scalars(select(Item.name)).all()
        print(json.dumps({"status": response.status_code, "items": list(items)}))
    """)
    assert result == {"status": 200, "items": ["pen"]}


def test_2_near_miss_an_async_helper_without_the_session_is_left_alone(cli, service):
    root = service({
        SUBSYSTEM: routes(
            """
            async def audit(name: str) -> str:
                return name.upper()
            """,
            """
            @router.post("/items")
            async def create_item(name: str, db: session_dependency):
                db.add(Item(name=await audit(name), owner_id=1))
                db.commit()
            """,
        )
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert document["subsystem"]["helpers"] == []
    assert function(root, SUBSYSTEM, "audit") == dedent(
        """
        async def audit(name: str) -> str:
            return name.upper()
        """
    )


# ------------------------------------- 3. function references passed as values

CRUD = """
from sqlalchemy.orm import Session

from models import Item


def add_item(db: Session, name: str) -> None:
    db.add(Item(name=name, owner_id=1))
    db.commit()
"""
# Code outside the subsystem that hands `crud.add_item` to something that calls it later.
REFERENCES = {
    "add_task": """
        @router.post("/later")
        def later(name: str, tasks: BackgroundTasks, db: session_dependency):
            tasks.add_task(crud.add_item, db, name)
        """,
    "to_thread": """
        @router.post("/later")
        async def later(name: str, db: session_dependency):
            await asyncio.to_thread(crud.add_item, db, name)
        """,
    "run_in_executor": """
        @router.post("/later")
        async def later(name: str, db: session_dependency):
            await asyncio.get_running_loop().run_in_executor(None, crud.add_item, db, name)
        """,
    "run_in_threadpool": """
        @router.post("/later")
        async def later(name: str, db: session_dependency):
            await run_in_threadpool(crud.add_item, db, name)
        """,
    "callback_dict": """
        ACTIONS = {"add": crud.add_item}


        @router.post("/later")
        def later(name: str, db: session_dependency):
            ACTIONS["add"](db, name)
        """,
    "callback_list": """
        ACTIONS = [crud.add_item]


        @router.post("/later")
        def later(name: str, db: session_dependency):
            for action in ACTIONS:
                action(db, name)
        """,
}
OTHER_HEAD = """
import asyncio

from fastapi import APIRouter, BackgroundTasks
from fastapi.concurrency import run_in_threadpool

from core.dependencies import session_dependency
from services import crud

router = APIRouter()
"""
MAIN_TWO = """
from fastapi import FastAPI

from api import items, other

app = FastAPI()
app.include_router(items.router)
app.include_router(other.router)
"""


@pytest.mark.parametrize("shape", sorted(REFERENCES))
def test_3_a_helper_used_as_a_value_elsewhere_gets_a_twin_and_both_paths_write(cli, service, shape):
    root = service({
        "main.py": MAIN_TWO,
        "services/__init__.py": "",
        "services/crud.py": CRUD,
        "api/other.py": dedent(OTHER_HEAD) + "\n\n" + dedent(REFERENCES[shape]) + "\n",
        SUBSYSTEM: routes(
            """
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                crud.add_item(db, name)
            """,
        ).replace("from models import Item, User", "from models import Item, User\nfrom services import crud"),
    })
    original = function(root, "services/crud.py", "add_item")
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert helper(document, "add_item")["action"] == "twin"
    assert function(root, "services/crud.py", "add_item") == original  # the original stays as it was
    assert "await crud.add_item_async(db, name)" in function(root, SUBSYSTEM, "create_item")
    result = serve(root, "sqlite", """
        first = client.post("/items", params={"name": "migrated"}).status_code
        second = client.post("/later", params={"name": "by-reference"}).status_code
        with Sync() as s:
            items = sorted(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": [first, second], "items": items}))
    """)
    assert result == {"status": [200, 200], "items": ["by-reference", "migrated"]}


def test_3_near_miss_a_helper_only_called_within_the_subsystem_is_migrated_in_place(cli, service):
    root = service({
        "services/__init__.py": "",
        "services/crud.py": CRUD,
        SUBSYSTEM: routes(
            """
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                crud.add_item(db, name)
            """,
        ).replace("from models import Item, User", "from models import Item, User\nfrom services import crud"),
    })
    document = apply(cli, root)
    assert helper(document, "add_item")["action"] == "migrate"
    assert "async def add_item(db: AsyncSession" in read(root, "services/crud.py")


# Synchronous code outside any function calling `crud.add_item`: no function calls it, so the
# call graph has no caller to keep its original for. Each runs as `run()` in the serve script.
MODULE_LEVEL = {
    "main_block": ("services/crud.py", CRUD + "\n\n" + dedent(
        """
        if __name__ == "__main__":
            from db.engine import database_sessionmaker

            with database_sessionmaker() as s:
                add_item(s, "from-script")
        """
    ), 'import runpy\n\ndef run():\n    runpy.run_module("services.crud", run_name="__main__")\n'),
    "script": ("scripts/seed.py", dedent(
        """
        from db.engine import database_sessionmaker
        from services import crud

        with database_sessionmaker() as s:
            crud.add_item(s, "from-script")
        """
    ), 'import runpy\n\ndef run():\n    runpy.run_path("scripts/seed.py", run_name="__main__")\n'),
    "lambda": ("manage.py", dedent(
        """
        from db.engine import database_sessionmaker
        from services import crud

        ACTIONS = {"add": lambda db, name: crud.add_item(db, name)}


        def main(action: str, name: str) -> None:
            with database_sessionmaker() as s:
                ACTIONS[action](s, name)
        """
    ), 'import manage\n\ndef run():\n    manage.main("add", "from-script")\n'),
    "instance_method": ("scripts/seed.py", dedent(
        """
        from db.engine import database_sessionmaker
        from services import crud

        with database_sessionmaker() as s:
            crud.item.add_item(s, "from-script")
        """
    ), 'import runpy\n\ndef run():\n    runpy.run_path("scripts/seed.py", run_name="__main__")\n'),
}
# The same helper as a method of a module-level instance (`crud.item.add_item(db, name)`).
CRUD_INSTANCE = """
from sqlalchemy.orm import Session

from models import Item


class CRUDItem:
    def add_item(self, db: Session, name: str) -> None:
        db.add(Item(name=name, owner_id=1))
        db.commit()


item = CRUDItem()
"""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", sorted(MODULE_LEVEL))
def test_3_a_helper_called_by_module_level_code_gets_a_twin_and_that_code_still_writes(cli, service, shape, kind):
    path, text, runner = MODULE_LEVEL[shape]
    through = "crud.item" if shape == "instance_method" else "crud"
    root = service({
        "services/__init__.py": "",
        "services/crud.py": CRUD_INSTANCE if shape == "instance_method" else CRUD,
        "scripts/__init__.py": "",
        path: text,
        SUBSYSTEM: routes(
            f"""
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                {through}.add_item(db, name)
            """,
        ).replace("from models import Item, User", "from models import Item, User\nfrom services import crud"),
    })
    text = read(root, "services/crud.py")
    original = text[text.index("def add_item"):text.index("db.commit()")]
    lines = read(root, path).splitlines()
    line = 1 + next(n for n, x in enumerate(lines) if "add_item(" in x and "def " not in x)
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    decision = helper(document, "CRUDItem.add_item" if shape == "instance_method" else "add_item")
    assert decision["action"] == "twin"
    assert f"also called outside any function, at {path}:{line}" in decision["reasons"][0]
    assert original in read(root, "services/crud.py")  # the original stays as it was
    assert f"await {through}.add_item_async(db, name)" in function(root, SUBSYSTEM, "create_item")
    result = serve(root, kind, runner + dedent("""
        status = client.post("/items", params={"name": "migrated"}).status_code
        run()
        with Sync() as s:
            items = sorted(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": status, "items": items}))
    """))
    assert result == {"status": 200, "items": ["from-script", "migrated"]}


def test_3_near_miss_module_level_code_calling_another_function_leaves_the_helper_in_place(cli, service):
    root = service({
        "services/__init__.py": "",
        "services/crud.py": CRUD + "\n\n" + dedent(
            """
            def usage() -> str:
                return "python -m services.crud NAME"


            if __name__ == "__main__":
                print(usage())
            """
        ),
        SUBSYSTEM: routes(
            """
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                crud.add_item(db, name)
            """,
        ).replace("from models import Item, User", "from models import Item, User\nfrom services import crud"),
    })
    document = apply(cli, root)
    assert helper(document, "add_item")["action"] == "migrate"
    assert "async def add_item(db: AsyncSession" in read(root, "services/crud.py")


# ------------------------------------------------ 4. twin names already taken

SHARED_CRUD = CRUD + '''

async def add_item_async(name: str) -> str:
    """Something else entirely, which a twin must not replace."""
    return f"queued {name}"
'''
OTHER_CALLER = dedent(OTHER_HEAD) + "\n\n" + dedent(
    """
    @router.post("/later")
    def later(name: str, db: session_dependency):
        crud.add_item(db, name)
    """
) + "\n"


@pytest.mark.parametrize("where", ["defined", "imported", "assigned", "global"])
def test_4_a_twin_never_shadows_an_existing_name(cli, service, where):
    files = {
        "main.py": MAIN_TWO,
        "services/__init__.py": "",
        "api/other.py": OTHER_CALLER,
    }
    if where == "defined":
        files["services/crud.py"] = SHARED_CRUD
        head = "from services.crud import add_item"
        extra = """
            @router.get("/queued")
            async def queued(name: str):
                return await crud.add_item_async(name)
            """
    elif where in ("assigned", "global"):
        # Bound where the facts keep no value: a string, or a function's `global` write.
        bound = (
            'add_item_async = "queued {}"\n' if where == "assigned"
            else 'def _init() -> None:\n    global add_item_async\n    add_item_async = "queued {}"\n\n\n_init()\n'
        )
        files["services/crud.py"] = CRUD + "\n\n" + bound
        head = "from services.crud import add_item"
        extra = """
            @router.get("/queued")
            async def queued(name: str):
                return crud.add_item_async.format(name)
            """
    else:
        files["services/crud.py"] = CRUD
        files["services/queue.py"] = 'async def add_item_async(name: str) -> str:\n    return f"queued {name}"\n'
        head = "from services.crud import add_item\nfrom services.queue import add_item_async"
        extra = """
            @router.get("/queued")
            async def queued(name: str):
                return await add_item_async(name)
            """
    files[SUBSYSTEM] = routes(
        """
        @router.post("/items")
        def create_item(name: str, db: session_dependency):
            add_item(db, name)
        """,
        extra,
    ).replace("from models import Item, User", f"from models import Item, User\nfrom services import crud\n{head}")
    root = service(files)
    document = apply(cli, root)
    decision = helper(document, "add_item")
    assert decision["action"] == "twin"
    assert "the twin is named `add_item_async_2`: `add_item_async` is already taken" in decision["reasons"]
    assert "await add_item_async_2(db, name)" in function(root, SUBSYSTEM, "create_item")
    assert "async def add_item_async_2(db: AsyncSession" in read(root, "services/crud.py")
    result = serve(root, "sqlite", """
        created = client.post("/items", params={"name": "pen"}).status_code
        queued = client.get("/queued", params={"name": "ink"}).json()
        later = client.post("/later", params={"name": "cap"}).status_code
        with Sync() as s:
            items = sorted(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": [created, later], "queued": queued, "items": items}))
    """)
    assert result == {"status": [200, 200], "queued": "queued ink", "items": ["cap", "pen"]}


def test_4_the_self_check_refuses_a_twin_replacing_a_modules_value(cli, service, monkeypatch):
    # Naming as it was, from the facts alone, which keep no value for a string: the twin
    # `async def add_item_async` would be written beside `add_item_async = "queued {}"`.
    from async_migrate.codemods.phase2 import twins

    facts_only = twins.module_names
    monkeypatch.setattr(twins, "module_names", lambda module, read=None: facts_only(module))
    files = {
        "main.py": MAIN_TWO,
        "services/__init__.py": "",
        "api/other.py": OTHER_CALLER,
        "services/crud.py": CRUD + '\n\nadd_item_async = "queued {}"\n',
        SUBSYSTEM: routes(
            """
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                crud.add_item(db, name)
            """,
        ).replace("from models import Item, User", "from models import Item, User\nfrom services import crud"),
    }
    root = service(files)
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    reasons = " | ".join(found["reasons"])
    assert "self-check:" in reasons and "AM223" in found["codes"], found
    assert "the rewrite defines `add_item_async` (`async def add_item_async`)" in reasons, reasons
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def test_4_near_miss_a_free_twin_name_keeps_the_suffix(cli, service):
    root = service({
        "services/__init__.py": "",
        "services/crud.py": CRUD,
        "api/other.py": OTHER_CALLER,
        SUBSYSTEM: routes(
            """
            @router.post("/items")
            def create_item(name: str, db: session_dependency):
                crud.add_item(db, name)
            """,
        ).replace("from models import Item, User", "from models import Item, User\nfrom services import crud"),
    })
    document = apply(cli, root)
    assert helper(document, "add_item")["reasons"] == [
        "also called by api.other.later: an async twin is added, the sync original stays"
    ]
    assert "await crud.add_item_async(db, name)" in function(root, SUBSYSTEM, "create_item")


# ------------------------------------------------ 6. test fixtures are not the stack

CONFTEST = """
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from db.engine import get_db_session
from main import app

test_engine = create_engine("sqlite://")
TestingSessionLocal = sessionmaker(bind=test_engine)


def override_get_db():
    with TestingSessionLocal() as session:
        yield session


app.dependency_overrides[get_db_session] = override_get_db
"""
SCRIPT = """
from sqlalchemy.orm import sessionmaker

from db.engine import engine

ScriptSession = sessionmaker(engine)


def get_script_session():
    with ScriptSession() as session:
        yield session
"""
CREATE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
"""


@pytest.mark.parametrize("extra", ["conftest", "unreached_dependency"])
def test_6_other_sessionmakers_do_not_block_the_stack_the_routes_reach(cli, service, extra):
    files = {SUBSYSTEM: routes(CREATE)}
    if extra == "conftest":
        files.update({"tests/__init__.py": "", "tests/conftest.py": CONFTEST})
    else:
        files.update({"scripts/__init__.py": "", "scripts/backfill.py": SCRIPT})
    root = service(files)
    document = apply(cli, root, "--allow-override-gap")
    assert document["subsystem"]["blockers"] == []
    assert handler(document, "create_item")["action"] == "migrate"
    assert "async_database_sessionmaker = async_sessionmaker(" in read(root, "db/engine.py")
    result = serve(root, "sqlite", """
        status = client.post("/items", params={"name": "pen"}).status_code
        with Sync() as s:
            items = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": status, "items": items}))
    """)
    assert result == {"status": 200, "items": ["pen"]}


OTHER_STACK = """
from sqlalchemy.orm import sessionmaker

from db.engine import engine

ReportSession = sessionmaker(engine)


def get_report_session():
    with ReportSession() as session:
        yield session
"""


def test_6_two_sessionmakers_reached_by_routes_move_the_routes_of_one(cli, service):
    """The routes reach two sessionmakers: those of one migrate onto its stack; the other's route
    stays synchronous, its reason naming the dependency it reaches (AM231)."""
    root = service({
        "reports/__init__.py": "",
        "reports/stack.py": OTHER_STACK,
        SUBSYSTEM: routes(
            CREATE,
            """
            @router.get("/report")
            def report(db: Session = Depends(get_report_session)):
                return db.scalar(select(func.count()).select_from(Item))
            """,
        ).replace("from models import Item, User", "from models import Item, User\nfrom reports.stack import get_report_session"),
    })
    document = apply(cli, root, "--allow-override-gap")
    # nothing blocks the subsystem as a whole; the one blocked route's reason is its one blocker
    assert document["subsystem"]["global_blockers"] == []
    assert [(b["file"], b["code"]) for b in document["subsystem"]["blockers"]] == [("reports/stack.py", "AM231")]
    assert handler(document, "create_item")["action"] == "migrate"
    found = handler(document, "report")
    assert found["action"] == "blocked" and found["codes"] == ["AM231"], found
    assert "reaches `get_report_session`, which opens its Sessions from `ReportSession`" in found["reasons"][0]
    result = serve(root, "sqlite", """
        status = client.post("/items", params={"name": "pen"}).status_code
        count = client.get("/report").json()
        print(json.dumps({"status": status, "count": count}))
    """)
    assert result == {"status": 200, "count": 1}


@pytest.mark.parametrize("kind", KINDS)
def test_6_a_subsystem_reaching_one_of_two_sessionmakers_migrates_onto_its_stack(cli, service, kind):
    root = service({
        "reports/__init__.py": "",
        "reports/stack.py": OTHER_STACK,
        SUBSYSTEM: routes(CREATE),
        "main.py": dedent(MAIN) + "\nfrom api import reports\n\napp.include_router(reports.router)\n",
        "api/reports.py": dedent("""
            from fastapi import APIRouter, Depends
            from sqlalchemy import func, select
            from sqlalchemy.orm import Session

            from models import Item
            from reports.stack import get_report_session

            router = APIRouter()


            @router.get("/report")
            async def report(db: Session = Depends(get_report_session)):
                return db.scalar(select(func.count()).select_from(Item))
        """),
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert document["subsystem"]["blockers"] == []
    # The async stack is built next to the sessionmaker the subsystem's routes reach.
    assert "async_engine = create_async_engine(" in read(root, "db/engine.py")
    result = serve(root, kind, """
        status = client.post("/items", params={"name": "pen"}).status_code
        with Sync() as s:
            items = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": status, "items": items}))
    """)
    assert result == {"status": 200, "items": ["pen"]}
    # The other subsystem's routes reach the other sessionmaker, bound to the same engine: the
    # async stack written for the first is checked against it (same URL) and reused.
    other = cli.json("phase2", root, "--subsystem", "api/reports.py", "--apply", "--allow-dirty")
    assert handler(other, "report")["action"] == "migrate", other
    assert other["subsystem"]["blockers"] == []
    assert "Depends(get_async_db_session)" in read(root, "api/reports.py")
    result = serve(root, kind, """
        client.post("/items", params={"name": "cup"})
        print(json.dumps(client.get("/report").json()))
    """)
    assert result == 1


BIND_SESSION = """
from contextvars import ContextVar

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session

request_session: ContextVar[Session] = ContextVar("request_session")


def bind_session(db: Session = Depends(get_db_session)) -> Session:
    request_session.set(db)
    return db
"""


def test_6_a_session_dependency_wrapper_only_another_router_uses_does_not_block(cli, service):
    # `bind_session` does more than open and yield (AM271 where routes take it); the subsystem's
    # routes never reach it, so it stays the other router's and the subsystem migrates.
    root = service({
        "core/context.py": BIND_SESSION,
        SUBSYSTEM: routes(CREATE),
        "main.py": dedent(MAIN) + "\nfrom api import other\n\napp.include_router(other.router)\n",
        "api/other.py": dedent("""
            from fastapi import APIRouter, Depends
            from sqlalchemy import func, select
            from sqlalchemy.orm import Session

            from core.context import bind_session
            from models import Item

            router = APIRouter()


            @router.get("/count")
            def count(db: Session = Depends(bind_session)):
                return db.scalar(select(func.count()).select_from(Item))
        """),
    })
    document = apply(cli, root)
    assert document["subsystem"]["blockers"] == [], document["subsystem"]["blockers"]
    assert handler(document, "create_item")["action"] == "migrate"
    assert "Depends(bind_session)" in read(root, "api/other.py")
    result = serve(root, "sqlite", """
        status = client.post("/items", params={"name": "pen"}).status_code
        print(json.dumps({"status": status, "count": client.get("/count").json()}))
    """)
    assert result == {"status": 200, "count": 1}
    # The other router reaches the wrapper: still AM271 there.
    other = cli.json("phase2", root, "--subsystem", "api/other.py")
    assert any(b["code"] == "AM271" for b in other["subsystem"]["blockers"]), other["subsystem"]["blockers"]


# The stack module ends with an import registering the models, below its alias.
LATE_IMPORT = {
    "db/engine.py": ENGINE.lstrip("\n").replace("import os\n", "import os\nfrom typing import Annotated\n").replace(
        "from sqlalchemy import create_engine", "from fastapi import Depends\nfrom sqlalchemy import create_engine"
    ) + (
        "\n\nDbSession = Annotated[Session, Depends(get_db_session)]\n\n"
        "# register the models on the metadata\nimport models  # noqa: E402,F401\n"
    ),
    "core/dependencies.py": "",  # the stack module's alias is the only one
    SUBSYSTEM: routes(CREATE.replace("db: session_dependency", "db: DbSession")).replace(
        "from db.engine import get_db_session", "from db.engine import DbSession"
    ).replace("from core.dependencies import session_dependency\n", ""),
}


@pytest.mark.parametrize("kind", KINDS)
def test_6_the_alias_goes_below_the_dependency_it_names_past_a_late_import(cli, service, kind):
    # `from models import ...` at the bottom of the stack module (registering the models) puts the
    # async stack below the sync alias; its async alias must still follow the dependency it names.
    root = service(LATE_IMPORT)
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", document
    stack = read(root, "db/engine.py")
    assert stack.index("async def get_async_db_session") < stack.index("= Annotated[AsyncSession,"), stack
    result = serve(root, kind, """
        status = client.post("/items", params={"name": "pen"}).status_code
        with Sync() as s:
            items = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": status, "items": items}))
    """)
    assert result == {"status": 200, "items": ["pen"]}


# ------------------------------------------------------------------- 5. SQLModel

SQLMODEL_DB = {
    "dependency": """
        import os
        from collections.abc import Iterator
        from typing import Annotated

        from fastapi import Depends
        from sqlmodel import Session, create_engine

        engine = create_engine(os.environ["DATABASE_URL"])


        def get_session() -> Iterator[Session]:
            with Session(engine) as session:
                yield session


        SessionDep = Annotated[Session, Depends(get_session)]
        """,
    "sessionmaker": """
        import os
        from collections.abc import Iterator
        from typing import Annotated

        from fastapi import Depends
        from sqlalchemy.orm import sessionmaker
        from sqlmodel import Session, create_engine

        engine = create_engine(os.environ["DATABASE_URL"])
        SessionLocal = sessionmaker(engine, class_=Session, expire_on_commit=False)


        def get_session() -> Iterator[Session]:
            with SessionLocal() as session:
                yield session


        SessionDep = Annotated[Session, Depends(get_session)]
        """,
}
SQLMODEL_MODELS = """
from sqlmodel import Field, SQLModel


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
"""
SQLMODEL_ROUTES = """
from fastapi import APIRouter
from sqlmodel import Session, select

from db import SessionDep
from models import Hero

router = APIRouter()


def count_heroes(session: Session) -> int:
    return len(session.exec(select(Hero)).all())


@router.post("/heroes")
def create_hero(name: str, session: SessionDep):
    hero = Hero(name=name)
    session.add(hero)
    session.commit()
    session.refresh(hero)
    return {"id": hero.id, "count": count_heroes(session)}


@router.get("/heroes")
def list_heroes(session: SessionDep):
    return [hero.name for hero in session.exec(select(Hero).order_by(Hero.id)).all()]
"""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", sorted(SQLMODEL_DB))
def test_5_sqlmodel_exec_is_awaited_on_sqlmodels_async_session(cli, project, shape, kind):
    root = project({
        "db.py": SQLMODEL_DB[shape],
        "models.py": SQLMODEL_MODELS,
        "api/__init__.py": "",
        "api/heroes.py": SQLMODEL_ROUTES,
        "main.py": MAIN.replace("from api.items import router", "from api.heroes import router"),
    })
    document = apply(cli, root, subsystem="api/heroes.py")
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_hero": "migrate", "list_heroes": "migrate",
    }
    db = read(root, "db.py")
    assert "from sqlmodel.ext.asyncio.session import AsyncSession" in db
    maker = next(n.value for n in ast.parse(db).body if isinstance(n, ast.Assign) and n.targets[0].id == "async_database_sessionmaker")
    assert ast.unparse(maker) == "async_sessionmaker(async_engine, expire_on_commit=False, class_=AsyncSession)"
    assert function(root, "api/heroes.py", "count_heroes") == dedent(
        """
        async def count_heroes(session: AsyncSession) -> int:
            return len((await session.exec(select(Hero))).all())
        """
    )
    assert "(await session.exec(select(Hero).order_by(Hero.id))).all()" in function(root, "api/heroes.py", "list_heroes")
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import Hero

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with TestClient(app) as client:
            created = [client.post("/heroes", params={"name": n}).json() for n in ("Ann", "Bob")]
            listed = client.get("/heroes").json()
        with Session(db.engine) as s:
            stored = [hero.name for hero in s.exec(select(Hero).order_by(Hero.id)).all()]
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        print(json.dumps({"created": [c["count"] for c in created], "listed": listed, "stored": stored}))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180) == {
        "created": [1, 2], "listed": ["Ann", "Bob"], "stored": ["Ann", "Bob"],
    }


def test_5_an_existing_sqlmodel_async_dependency_is_reused(cli, project):
    root = project({
        "db.py": dedent(SQLMODEL_DB["dependency"]) + "\n\n" + dedent(
            """


            from collections.abc import AsyncIterator

            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel.ext.asyncio.session import AsyncSession

            async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))


            async def get_async_session() -> AsyncIterator[AsyncSession]:
                async with AsyncSession(async_engine) as session:
                    yield session


            AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_session)]
            """
        ),
        "models.py": SQLMODEL_MODELS,
        "api/__init__.py": "",
        "api/heroes.py": SQLMODEL_ROUTES,
    })
    before = read(root, "db.py")
    document = apply(cli, root, subsystem="api/heroes.py")
    assert read(root, "db.py") == before  # no second stack
    assert document["files_changed"] == ["api/heroes.py"]
    assert "def create_hero(name: str, session: AsyncSessionDep)" in function(root, "api/heroes.py", "create_hero")
    (root / "main.py").write_text(MAIN.replace("from api.items import router", "from api.heroes import router"))
    script = dedent(
        """
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import Hero

        SQLModel.metadata.create_all(db.engine)
        with TestClient(app) as client:
            created = client.post("/heroes", params={"name": "Ann"}).json()
        with Session(db.engine) as s:
            stored = [hero.name for hero in s.exec(select(Hero)).all()]
        print(json.dumps({"count": created["count"], "stored": stored}))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": f"sqlite:///{root / 'app.db'}"}
    result = run_python(script, cwd=root, env=env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"count": 1, "stored": ["Ann"]}


def test_1_an_include_router_dependency_sharing_the_session_blocks_while_a_route_it_includes_stays(cli, service):
    # `api/more.py` adds a route to the included router: the include's list runs for it too,
    # and it stays on the synchronous Session (its own subsystem).
    root = service({
        "core/dependencies.py": ADMIN_DEPENDENCIES.replace(
            "from db.engine import get_db_session", "from db.engine import get_db_session\nfrom models import User"
        ),
        "main.py": MAIN.replace(
            "app.include_router(router)",
            "import api.more  # noqa: F401\n\napp.include_router(router, dependencies=[Depends(get_current_user)])",
        ).replace("from fastapi import FastAPI", "from fastapi import Depends, FastAPI\n\nfrom core.dependencies import get_current_user"),
        SUBSYSTEM: routes(CREATE),
        "api/more.py": dedent("""
            from sqlalchemy import func, select

            from api.items import router
            from core.dependencies import session_dependency
            from models import Item


            @router.get("/count")
            def count(db: session_dependency):
                return db.scalar(select(func.count(Item.id)))
        """),
    })
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked"
    assert "dependency core.dependencies.get_current_user receives the synchronous Session too (parameter " \
        "`session`)" in found["reasons"][0]
    assert "`include_router(..., dependencies=[Depends(get_current_user)])` (main.py:10) applies it to every " \
        "route of `api.items.router`" in found["reasons"][0]
    assert "api.more.count stays on the synchronous Session" in found["reasons"][0]
    assert document["files_changed"] == []
    result = serve(root, "sqlite", """
        status = client.post("/items", params={"name": "pen"}).status_code
        with Sync() as s:
            items = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": status, "items": items}))
    """)
    assert result == {"status": 200, "items": ["pen"]}


GUARDED_MAIN = """
from fastapi import Depends, FastAPI

from api import admin, items
from core.dependencies import require_admin

app = FastAPI()
app.include_router(items.router)
app.include_router(admin.router, prefix="/admin", dependencies=[Depends(require_admin)])
"""
ADMIN_ROUTES = """
@router.get("/stats")
def stats(db: session_dependency):
    return {"items": db.scalar(select(func.count()).select_from(Item))}
"""


def test_1_a_guarded_include_of_another_router_moves_only_with_that_routers_routes(cli, service):
    root = service({
        "core/dependencies.py": ADMIN_DEPENDENCIES.replace(
            "from db.engine import get_db_session", "from db.engine import get_db_session\nfrom models import User"
        ),
        "main.py": GUARDED_MAIN,
        "api/admin.py": routes(ADMIN_ROUTES),
        SUBSYSTEM: routes(CREATE),
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert "dependencies=[Depends(require_admin)]" in read(root, "main.py")
    # the admin router's routes all migrate: the include's list moves to the twins with them
    admin = apply(cli, root, subsystem="api/admin.py")
    assert handler(admin, "stats")["action"] == "migrate", handler(admin, "stats")
    assert 'app.include_router(admin.router, prefix="/admin", dependencies=[Depends(require_admin_async)])' in (
        read(root, "main.py")
    )
    result = serve(root, "sqlite", """
        status = client.post("/items", params={"name": "pen"}).status_code
        with Sync() as s:
            items = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"status": status, "items": items, "stats": client.get("/admin/stats").json()}))
    """)
    assert result == {"status": 200, "items": ["pen"], "stats": {"items": 1}}


def test_1_near_miss_a_guarded_include_of_a_router_the_analysis_cannot_name_blocks_every_route(cli, service):
    main = GUARDED_MAIN.replace("from api import admin, items", "from api import admin, items\n\n\ndef make(): return admin.router\n").replace(
        "app.include_router(admin.router,", "app.include_router(make(),"
    )
    root = service({
        "core/dependencies.py": ADMIN_DEPENDENCIES.replace(
            "from db.engine import get_db_session", "from db.engine import get_db_session\nfrom models import User"
        ),
        "main.py": main,
        "api/admin.py": routes(ADMIN_ROUTES),
        SUBSYSTEM: routes(CREATE),
    })
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked"
    assert "dependency core.dependencies.require_admin receives the synchronous Session through " \
        "`get_current_user`, and a `Depends(require_admin)` in main.py is written where the tool cannot tell" \
        in found["reasons"][0]


# ------------------------------------------- helpers opening their own Session


@pytest.mark.parametrize("kind", KINDS)
def test_a_helper_opening_the_session_with_maker_begin_keeps_the_commit_on_exit(cli, service, kind):
    root = service({
        SUBSYSTEM: routes(
            """
            from db.engine import database_sessionmaker


            def store(name: str) -> None:
                with database_sessionmaker.begin() as session:
                    session.add(Item(name=name, owner_id=1))
            """,
            """
            @router.post("/items")
            async def create_item(name: str):
                store(name)
                return {"ok": True}
            """,
        )
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert "async with async_database_sessionmaker.begin() as session:" in function(root, SUBSYSTEM, "store")
    result = serve(root, kind, """
        response = client.post("/items", params={"name": "pen"})
        with Sync() as s:
            items = s.scalars(select(Item.name)).all()
        print(json.dumps({"status": response.status_code, "items": list(items)}))
    """)
    assert result == {"status": 200, "items": ["pen"]}


@pytest.mark.parametrize("kind", KINDS)
def test_1_a_session_dependency_with_use_cache_false_keeps_a_session_of_its_own(cli, service, kind):
    root = service({
        SUBSYSTEM: routes(
            """
            from fastapi import HTTPException


            @router.post("/items")
            def create_item(
                name: str,
                db: Session = Depends(get_db_session),
                audit: Session = Depends(get_db_session, use_cache=False),
            ):
                db.add(Item(name=name, owner_id=1))
                audit.add(User(id=10, name=f"audit {name}"))
                audit.commit()
                if name.startswith("bad"):
                    raise HTTPException(status_code=422)
                db.commit()
                return {"ok": True}
            """,
        )
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "audit: AsyncSession = Depends(get_async_db_session, use_cache=False)," in function(
        root, SUBSYSTEM, "create_item"
    )
    result = serve(root, kind, """
        response = client.post("/items", params={"name": "bad"})
        with Sync() as s:
            items = s.scalars(select(Item.name)).all()
            audit = s.scalars(select(User.name).where(User.id == 10)).all()
        print(json.dumps({"status": response.status_code, "items": list(items), "audit": list(audit)}))
    """)
    assert result == {"status": 422, "items": [], "audit": ["audit bad"]}
