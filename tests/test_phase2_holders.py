"""Phase two through classes whose instances hold the Session (`self.db`), proved by running.

A repository built per request from the route's Session (in the route body, or by a
dependency `get_repo`), a service holding the repository, both moved in place: the
migrated application is served with TestClient on the generated async stack and the
database is read back through a separate synchronous session. The repository's Session
and the route's own Session stay one object per request (a write through one is
committed by the other). Near misses block, naming the line, and leave code that runs.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects, methods_of
from test_phase2_rules import dedent, handler, helper, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

REPO = """
class ItemRepo:
    \"\"\"Items on the request's Session.\"\"\"

    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, name: str) -> Item:
        obj = Item(name=name, owner_id=1)
        self.db.add(obj)
        self.db.flush()
        return obj

    def count(self) -> int:
        return self.db.scalar(select(func.count(Item.id)))

    def names(self) -> list[str]:
        return list(self.db.scalars(select(Item.name).order_by(Item.id)))

    def save(self) -> None:
        self.db.commit()


class ItemService:
    def __init__(self, repo: ItemRepo) -> None:
        self.repo = repo

    def create(self, name: str) -> Item:
        made = self.repo.add(name)
        self.repo.save()
        return made


def get_repo(db: Session = Depends(get_db_session)) -> ItemRepo:
    return ItemRepo(db)
"""
ROUTES = """
@router.post("/items")
def add_item(name: str, db: session_dependency):
    made = ItemService(ItemRepo(db)).create(name)
    return {"id": made.id, "count": ItemRepo(db).count()}


@router.post("/items/unsaved")
def add_unsaved(name: str, db: session_dependency, repo: ItemRepo = Depends(get_repo)):
    repo.add(name)
    db.commit()  # the repository's Session must be this one for the row to land
    return {"count": repo.count()}


@router.get("/items")
async def item_names(repo: ItemRepo = Depends(get_repo)):
    return repo.names()
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_repository_and_a_service_holding_the_session_move_in_place_and_write(cli, service, kind):
    root = service({SUBSYSTEM: routes(REPO, ROUTES)})
    document = apply_objects(cli, root)
    for route in ("add_item", "add_unsaved", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    for name in ("ItemRepo.add", "ItemRepo.count", "ItemRepo.names", "ItemRepo.save", "ItemRepo.__init__",
                 "ItemService.create", "get_repo"):
        assert helper(document, name)["action"] == "migrate", name
    assert "AM252" in helper(document, "ItemRepo.add")["codes"]
    assert methods_of(root, SUBSYSTEM, "ItemRepo") == {
        "__init__": False, "add": True, "count": True, "names": True, "save": True,
    }
    text = read(root, SUBSYSTEM)
    assert "    def __init__(self, db: AsyncSession) -> None:" in text
    assert "        await self.db.flush()" in text
    assert "        self.db.add(obj)" in text
    assert "        made = await self.repo.add(name)" in text
    assert "    made = await ItemService(ItemRepo(db)).create(name)" in text
    assert 'return {"id": made.id, "count": await ItemRepo(db).count()}' in text
    assert "def get_repo(db: AsyncSession = Depends(get_async_db_session)) -> ItemRepo:" in text
    result = serve(root, kind, """
        first = client.post("/items", params={"name": "a"}).json()
        second = client.post("/items/unsaved", params={"name": "b"}).json()
        names = client.get("/items").json()
        with Sync() as s:
            rows = list(s.scalars(select(Item.name).order_by(Item.id)))
        print(json.dumps({"first": first, "second": second, "names": names, "rows": rows}))
    """)
    assert result == {
        "first": {"id": 1, "count": 1}, "second": {"count": 2}, "names": ["a", "b"], "rows": ["a", "b"],
    }


# ------------------------------------------------------------------ near misses

OTHER_MODULE = """
from fastapi import APIRouter, Depends

from api.items import ItemRepo, get_repo

router = APIRouter()


@router.get("/admin/count")
def admin_count(repo: ItemRepo = Depends(get_repo)):
    return {"count": repo.count()}
"""
TWO_ROUTERS = """
from fastapi import FastAPI

from api import admin, items

app = FastAPI()
app.include_router(items.router)
app.include_router(admin.router)
"""


def test_near_miss_a_reassigned_session_blocks_naming_the_line_and_the_code_still_runs(cli, service):
    repo = REPO.replace(
        "    def save(self) -> None:\n",
        "    def use(self, other: Session) -> None:\n        self.db = other\n\n    def save(self) -> None:\n",
    )
    root = service({SUBSYSTEM: routes(repo, ROUTES)})
    before = read(root, SUBSYSTEM)
    document = apply_objects(cli, root)
    line = before.splitlines().index("    def use(self, other: Session) -> None:") + 1
    # listed once, at the first route using the class, saying first that the class blocks it
    found = handler(document, "add_item")
    assert found["action"] == "blocked" and "AM253" in found["codes"], found
    assert any(
        r.startswith(f"api/items.py:{line}: the route uses ItemRepo, whose method use blocks the class (")
        and "ItemRepo holds the Session on its instances and cannot move: ItemRepo.use assigns the Session "
        "attribute `self.db` (`other`)" in r for r in found["reasons"]
    ), found
    for route in ("add_unsaved", "item_names"):
        found = handler(document, route)
        assert found["action"] == "blocked" and "AM253" in found["codes"], found
        assert any(
            "the route uses ItemRepo, whose method use blocks the class" in r
            and r.endswith("its reasons are listed at api.items.add_item") for r in found["reasons"]
        ), found
        assert "assigns the Session attribute" not in " | ".join(found["reasons"]), found
    assert read(root, SUBSYSTEM) == before
    result = serve(root, "sqlite", """
        made = client.post("/items", params={"name": "x"}).json()
        print(json.dumps({"made": made, "names": client.get("/items").json()}))
    """)
    assert result == {"made": {"id": 1, "count": 1}, "names": ["x"]}


def test_near_miss_an_instance_kept_at_module_level_blocks(cli, service):
    root = service({SUBSYSTEM: routes(REPO + "\n\nSHARED = ItemRepo(None)\n", ROUTES)})
    document = apply_objects(cli, root)
    assert "an instance of ItemRepo is kept at module level (`SHARED`)" in " | ".join(handler(document, "add_item")["reasons"])
    found = handler(document, "item_names")
    assert found["action"] == "blocked", found
    assert any(
        "the route uses ItemRepo, which cannot move as a class" in r and r.endswith("listed at api.items.add_item")
        for r in found["reasons"]
    ), found


# ------------------------------------------------------------ the parallel class


@pytest.mark.parametrize("kind", KINDS)
def test_a_repository_shared_with_a_route_that_stays_gets_a_parallel_async_class(cli, service, kind):
    root = service({
        SUBSYSTEM: routes(REPO, ROUTES), "api/admin.py": OTHER_MODULE, "main.py": TWO_ROUTERS,
    })
    document = apply_objects(cli, root)
    for route in ("add_item", "add_unsaved", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    for name in ("ItemRepo.add", "ItemRepo.count", "ItemRepo.__init__"):
        found = helper(document, name)
        assert (found["action"], found["codes"]) == ("twin", ["AM255"]), found
    assert helper(document, "get_repo")["action"] == "twin"
    # The original stays for api/admin.py; the copy right after it is async.
    assert methods_of(root, SUBSYSTEM, "ItemRepo") == {
        "__init__": False, "add": False, "count": False, "names": False, "save": False,
    }
    assert methods_of(root, SUBSYSTEM, "ItemRepoAsync") == {
        "__init__": False, "add": True, "count": True, "names": True, "save": True,
    }
    text = read(root, SUBSYSTEM)
    assert "    made = await ItemService(ItemRepoAsync(db)).create(name)" in text
    assert "async def get_repo_async(db: AsyncSession = Depends(get_async_db_session)) -> ItemRepoAsync:" in text
    assert "repo: ItemRepoAsync = Depends(get_repo_async)" in text
    assert "def admin_count(repo: ItemRepo = Depends(get_repo)):" in read(root, "api/admin.py")
    result = serve(root, kind, """
        first = client.post("/items", params={"name": "a"}).json()
        second = client.post("/items/unsaved", params={"name": "b"}).json()
        names = client.get("/items").json()
        admin = client.get("/admin/count").json()
        with Sync() as s:
            rows = list(s.scalars(select(Item.name).order_by(Item.id)))
        print(json.dumps({"first": first, "second": second, "names": names, "admin": admin, "rows": rows}))
    """)
    assert result == {
        "first": {"id": 1, "count": 1}, "second": {"count": 2}, "names": ["a", "b"], "admin": {"count": 2},
        "rows": ["a", "b"],
    }


REPO_MODULE = """
from fastapi import Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item
""" + REPO


@pytest.mark.parametrize("kind", KINDS)
def test_a_parallel_class_imported_through_a_package_re_export_is_imported_from_its_home(cli, service, kind):
    # `from repos import ItemRepo`, where repos/__init__.py re-exports repos/items.py's class:
    # the copy is imported from the module that defines it.
    root = service({
        "repos/__init__.py": "from repos.items import ItemRepo, ItemService, get_repo\n",
        "repos/items.py": REPO_MODULE,
        SUBSYSTEM: routes(ROUTES).replace("from models import Item, User", "from models import Item, User\nfrom repos import ItemRepo, ItemService, get_repo"),
        "api/admin.py": OTHER_MODULE.replace("from api.items import", "from repos import"),
        "main.py": TWO_ROUTERS,
    })
    document = apply_objects(cli, root)
    for route in ("add_item", "add_unsaved", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert "from repos.items import ItemRepoAsync" in read(root, SUBSYSTEM)
    result = serve(root, kind, """
        first = client.post("/items", params={"name": "a"}).json()
        names = client.get("/items").json()
        admin = client.get("/admin/count").json()
        print(json.dumps({"first": first, "names": names, "admin": admin}))
    """)
    assert result == {"first": {"id": 1, "count": 1}, "names": ["a"], "admin": {"count": 1}}


def test_a_method_named_as_a_value_keeps_the_original_class_and_moves_a_parallel_one(cli, service):
    root = service({SUBSYSTEM: routes(REPO + "\n\nCALLBACKS = {'count': ItemRepo.count}\n", ROUTES)})
    document = apply_objects(cli, root)
    assert handler(document, "item_names")["action"] == "migrate"
    assert helper(document, "ItemRepo.count")["codes"] == ["AM255"]
    assert "CALLBACKS = {'count': ItemRepo.count}" in read(root, SUBSYSTEM)
    assert methods_of(root, SUBSYSTEM, "ItemRepoAsync")["count"] is True
    result = serve(root, "sqlite", """
        client.post("/items", params={"name": "x"})
        print(json.dumps({"names": client.get("/items").json()}))
    """)
    assert result == {"names": ["x"]}


def test_a_parallel_class_name_already_taken_gets_a_number(cli, service):
    root = service({SUBSYSTEM: routes(REPO + "\n\nItemRepoAsync = None\n", ROUTES), "api/admin.py": OTHER_MODULE,
                    "main.py": TWO_ROUTERS})
    document = apply_objects(cli, root)
    assert handler(document, "item_names")["action"] == "migrate"
    assert "class ItemRepoAsync2:" in read(root, SUBSYSTEM)
    assert "ItemRepoAsync = None" in read(root, SUBSYSTEM)
    assert "repo: ItemRepoAsync2 = Depends(get_repo_async)" in read(root, SUBSYSTEM)


def test_a_second_run_after_the_parallel_class_is_a_no_op(cli, service):
    root = service({SUBSYSTEM: routes(REPO, ROUTES), "api/admin.py": OTHER_MODULE, "main.py": TWO_ROUTERS})
    apply_objects(cli, root)
    written = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = apply_objects(cli, root)
    assert document["files_changed"] == []
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == written


def test_self_check_an_unawaited_call_on_the_held_session_blocks_the_route(cli, service, monkeypatch):
    from test_phase2_self_check import phase2 as run_phase2

    from async_migrate.codemods.phase2 import plan

    # Without get_repo: a synchronous builder of the class would keep it from moving (AM254).
    repo = REPO.split("\n\ndef get_repo")[0]
    root = service({SUBSYSTEM: routes(repo, """
        @router.post("/items")
        def create_item(name: str, db: session_dependency):
            ItemService(ItemRepo(db)).create(name)
            return {"ok": True}
    """)})
    original = plan._plan_calls

    def drop_held_await(project, fid, fplan, *args):  # type: ignore[no-untyped-def]
        original(project, fid, fplan, *args)
        if project.functions[fid][1].qualname == "ItemRepo.save":
            for action in fplan.calls.values():
                action.add_await = False

    monkeypatch.setattr(plan, "_plan_calls", drop_held_await)
    document, before = run_phase2(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked" and "AM223" in found["codes"], found
    assert "ItemRepo.save: `self.db.commit()` is a coroutine on the held AsyncSession and is not awaited" in (
        " | ".join(found["reasons"])
    )
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def _awaited(found: dict) -> set[str]:
    text = next(r for r in found["reasons"] if "awaits the migrated helpers" in r)
    return {name.rsplit(".", 2)[-2] + "." + name.rsplit(".", 1)[-1] if "." in name else name
            for name in text.split("awaits the migrated helpers ", 1)[1].split(", ")}


def test_a_route_s_reason_lists_the_helpers_it_awaits_not_the_whole_class(cli, service):
    # The whole ItemRepo moves with any route using it, but `item_names` awaits only `names`;
    # no route awaits a constructor.
    root = service({SUBSYSTEM: routes(REPO, ROUTES)})
    document = apply_objects(cli, root)
    assert _awaited(handler(document, "item_names")) == {"ItemRepo.names"}
    # Near miss: every helper a route's calls do lead to is listed.
    assert _awaited(handler(document, "add_item")) == {
        "ItemService.create", "ItemRepo.add", "ItemRepo.save", "ItemRepo.count",
    }
    assert _awaited(handler(document, "add_unsaved")) == {"ItemRepo.add", "ItemRepo.count"}


RELATED_MODELS = test_phase2_soundness.MODELS.replace(
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship",
) + """
    owner: Mapped[User] = relationship()
"""
UNIT_OF_WORK = """
from pydantic import BaseModel, ConfigDict

from db.engine import database_sessionmaker


class UnitOfWork:
    def __enter__(self) -> "UnitOfWork":
        self.session = database_sessionmaker()
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    owner: UserOut


@router.get("/items/{item_id}", response_model=ItemOut)
def get_item(item_id: int, db: session_dependency):
    with UnitOfWork() as uow:
        uow.session.get(Item, item_id)
    # The flow does not follow max(): the response is judged by names, and Item.owner is lazy.
    return max(db.scalars(select(Item).where(Item.id == item_id)).all(), key=lambda item: item.id)


@router.get("/items/{item_id}/plain", response_model=ItemOut)
def get_plain(item_id: int, db: session_dependency):
    return max(db.scalars(select(Item).where(Item.id == item_id)).all(), key=lambda item: item.id)
"""


def test_a_route_blocked_by_a_lazy_load_also_names_what_its_helpers_cannot_move(cli, service):
    # The lazy load (Item.owner) blocks first; the unit of work holding a Session of its own
    # is the route's other problem, and a reviewer who adds the eager load still needs it.
    from test_phase2_rules import run

    root = service({"models.py": RELATED_MODELS, SUBSYSTEM: routes(UNIT_OF_WORK)})
    document = run(cli, root)
    found = handler(document, "get_item")
    assert found["action"] == "blocked"
    text = " ".join(found["reasons"])
    assert "ItemOut.owner" in text and "UnitOfWork" in text, found["reasons"]
    # Near miss: the same lazy load without the unit of work names only the lazy load.
    plain = handler(document, "get_plain")
    assert plain["action"] == "blocked"
    assert "ItemOut.owner" in " ".join(plain["reasons"]) and "UnitOfWork" not in " ".join(plain["reasons"])


def test_a_parallel_class_an_earlier_subsystem_added_is_reported_reused(cli, project):
    # api/a.py's run adds RepoAsync; api/b.py's uses it as it is: "reused", not "added".
    repo = dedent("""
        from sqlalchemy import text
        from sqlalchemy.orm import Session


        class Repo:
            def __init__(self, session: Session) -> None:
                self.session = session

            def one(self) -> int:
                return self.session.execute(text("select 1")).scalar_one()
        """)
    route = dedent("""
        from fastapi import APIRouter

        from db import SessionDep
        from repo import Repo

        router = APIRouter()


        @router.get("/NAME")
        def get_NAME(session: SessionDep):
            return {"n": Repo(session).one()}
        """)
    files = {
        "db.py": dedent("""
            from typing import Annotated

            from fastapi import Depends
            from sqlalchemy import create_engine
            from sqlalchemy.orm import Session, sessionmaker

            engine = create_engine("sqlite:///./r4.db")
            SessionLocal = sessionmaker(engine, expire_on_commit=False)


            def get_db():
                with SessionLocal() as s:
                    yield s


            SessionDep = Annotated[Session, Depends(get_db)]
            """),
        "main.py": "from fastapi import FastAPI\n\nfrom api import a, b, c\n\napp = FastAPI()\n"
                   "for m in (a, b, c):\n    app.include_router(m.router)\n",
        "repo.py": repo, "api/__init__.py": "",
        **{f"api/{name}.py": route.replace("NAME", name) for name in "abc"},
    }
    root = project(files)
    first = cli.json("phase2", root, "-s", "api/a.py", "--apply")
    assert {(h["function"], h["twin_exists"]) for h in first["subsystem"]["helpers"]} == {
        ("Repo.__init__", False), ("Repo.one", False),
    }
    second = cli.json("phase2", root, "-s", "api/b.py")
    found = {h["function"]: h for h in second["subsystem"]["helpers"]}
    assert {name: (h["action"], h["twin_exists"]) for name, h in found.items()} == {
        "Repo.__init__": ("twin", True), "Repo.one": ("twin", True),
    }
    assert "the parallel class RepoAsync (added by an earlier run after Repo," in found["Repo.one"]["reasons"][0]
    report = root / "b.md"
    assert cli("phase2", root, "-s", "api/b.py", "--report", str(report)).exit_code in (0, 1)
    assert "| Repo.one | repo.py:10 | async twin reused (an earlier run's; sync original kept) |" in report.read_text()
