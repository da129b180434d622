"""Phase two through project classes, proved by running the migrated code.

Each shape (a generic CRUD base with exported instances, methods calling `self.x(...)`
and `super().x(...)`, a class shared with code outside the subsystem, a static-method
repository) is migrated with `phase2 --apply`, served with TestClient on the generated
async stack (aiosqlite, psycopg's async driver, aiomysql) and read back through a separate
synchronous session. Each has a near miss that must block, naming the line, and leave
code that still works. The self-check is tested with a deliberately broken plan.
"""

from __future__ import annotations

import ast

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, helper, read
from test_phase2_self_check import assert_refused
from test_phase2_soundness import KINDS, routes, serve

from async_migrate.codemods.phase2 import methods, plan
from async_migrate.codemods.phase2.rewrites import CallKind

service = test_phase2_soundness.service  # the small application on the sync stack
SUBSYSTEM = "api/items.py"

CRUD = """
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item, User

ModelT = TypeVar("ModelT")


class CRUDBase(Generic[ModelT]):
    def __init__(self, model: type[ModelT]) -> None:
        self.model = model

    def get(self, db: Session, id: int) -> ModelT | None:
        return db.get(self.model, id)

    def names(self, db: Session) -> list[str]:
        return list(db.scalars(select(self.model.name).order_by(self.model.id)))

    def create(self, db: Session, **values) -> ModelT:
        obj = self.model(**values)
        db.add(obj)
        db.commit()
        db.refresh(obj)
        return obj


class CRUDItem(CRUDBase[Item]):
    def _owner(self, db: Session, owner_id: int) -> User:
        owner = db.get(User, owner_id)
        if owner is None:
            raise LookupError(owner_id)
        return owner

    def create(self, db: Session, **values) -> Item:
        self._owner(db, values["owner_id"])
        return super().create(db, **values)


item = CRUDItem(Item)
user = CRUDBase(User)
"""
CRUD_ROUTES = """
@router.post("/items")
async def add_item(name: str, db: Session = Depends(get_db_session)):
    made = crud.item.create(db, name=name, owner_id=1)
    return {"id": made.id, "owner": crud.user.get(db, id=1).name}


@router.get("/items")
def item_names(db: Session = Depends(get_db_session)):
    return crud.item.names(db)
"""
# Outside the subsystem: keeps calling the synchronous CRUDBase.get.
ADMIN = """
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

import crud
from db.engine import get_db_session

router = APIRouter()


@router.get("/admin/users/{user_id}")
def admin_user(user_id: int, db: Session = Depends(get_db_session)):
    return {"name": crud.user.get(db, id=user_id).name}
"""
MAIN = """
from fastapi import FastAPI

from api import admin, items

app = FastAPI()
app.include_router(items.router)
app.include_router(admin.router)
"""


def crud_service(service, crud: str = CRUD):  # type: ignore[no-untyped-def]
    return service({
        "crud.py": crud,
        "api/admin.py": ADMIN,
        "main.py": MAIN,
        SUBSYSTEM: routes(CRUD_ROUTES).replace("from models import", "import crud\nfrom models import"),
    })


def methods_of(root, path: str, cls: str) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    """{method name: is async} for one class of a written file."""
    for node in ast.parse(read(root, path)).body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            return {
                f.name: isinstance(f, ast.AsyncFunctionDef)
                for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            }
    raise AssertionError(f"no class {cls} in {path}")


@pytest.mark.parametrize("kind", KINDS)
def test_a_generic_crud_base_with_exported_instances_migrates_and_writes(cli, service, kind):
    root = crud_service(service)
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate"
    assert handler(document, "item_names")["action"] == "migrate"
    # CRUDBase.get is shared with api/admin.py: an async twin method; the rest moves in place,
    # the override and the base method it calls through super() alike.
    assert helper(document, "CRUDBase.get")["action"] == "twin"
    assert {helper(document, name)["action"] for name in ("CRUDBase.create", "CRUDItem.create", "CRUDItem._owner")} == {
        "migrate"
    }
    assert methods_of(root, "crud.py", "CRUDBase") == {
        "__init__": False, "get": False, "get_async": True, "names": True, "create": True,
    }
    assert methods_of(root, "crud.py", "CRUDItem") == {"_owner": True, "create": True}
    text = read(root, "crud.py")
    assert "await self._owner(db, values[\"owner_id\"])" in text
    assert "return await super().create(db, **values)" in text
    assert 'return {"id": made.id, "owner": (await crud.user.get_async(db, id=1)).name}' in read(root, SUBSYSTEM)
    assert "crud.user.get(db, id=user_id)" in read(root, "api/admin.py")
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "pen"})
        names = client.get("/items")
        admin = client.get("/admin/users/2")
        with Sync() as s:
            rows = [(i.name, i.owner_id) for i in s.scalars(select(Item))]
        print(json.dumps({"created": created.json(), "names": names.json(), "admin": admin.json(), "rows": rows}))
    """)
    assert result == {
        "created": {"id": 1, "owner": "Ann"}, "names": ["pen"], "admin": {"name": "Bob"}, "rows": [["pen", 1]],
    }


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_an_override_the_route_does_not_reach_blocks_and_the_code_still_runs(cli, service, kind):
    # The route creates through the base instance; CRUDItem.create overrides create and
    # would stay synchronous, so create cannot move.
    crud = CRUD.replace("item = CRUDItem(Item)", "item = CRUDItem(Item)\nplain = CRUDBase(Item)")
    root = crud_service(service, crud)
    (root / SUBSYSTEM).write_text(read(root, SUBSYSTEM).replace("crud.item.create(", "crud.plain.create("))
    document = apply_objects(cli, root)
    found = handler(document, "add_item")
    assert (found["action"], found["codes"]) == ("blocked", ["AM242"])
    assert "crud.CRUDBase.create is overridden by crud.CRUDItem.create (crud.py:" in found["reasons"][0]
    assert handler(document, "item_names")["action"] == "migrate"
    assert methods_of(root, "crud.py", "CRUDItem") == {"_owner": False, "create": False}
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "cup"})
        with Sync() as s:
            rows = [i.name for i in s.scalars(select(Item))]
        print(json.dumps({"status": created.status_code, "names": client.get("/items").json(), "rows": rows}))
    """)
    assert result == {"status": 200, "names": ["cup"], "rows": ["cup"]}


REPOSITORY_ROUTES = """
class ItemQueries:
    @staticmethod
    def add(db: Session, name: str) -> Item:
        obj = Item(name=name, owner_id=1)
        db.add(obj)
        db.commit()
        return obj

    @classmethod
    def count(cls, db: Session) -> int:
        return db.scalar(select(func.count(Item.id)))


@router.post("/items")
def add_item(name: str, db: session_dependency):
    ItemQueries.add(db, name)
    return {"count": ItemQueries.count(db)}
"""
HELD_ROUTES = """
def get_owner(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)


class ItemContext:
    def __init__(self, owner: User = Depends(get_owner)) -> None:
        self.owner_id = owner.id


@router.post("/items")
def add_item(name: str, db: session_dependency, ctx: ItemContext = Depends()):
    obj = Item(name=name, owner_id=ctx.owner_id)
    db.add(obj)
    db.commit()
    return {"id": obj.id}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_static_and_class_methods_taking_the_session_migrate_and_write(cli, service, kind):
    root = service({SUBSYSTEM: routes(REPOSITORY_ROUTES)})
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate"
    assert {helper(document, name)["action"] for name in ("ItemQueries.add", "ItemQueries.count")} == {"migrate"}
    text = read(root, SUBSYSTEM)
    assert "await ItemQueries.add(db, name)" in text
    assert 'return {"count": await ItemQueries.count(db)}' in text
    result = serve(root, kind, """
        first = client.post("/items", params={"name": "a"}).json()
        second = client.post("/items", params={"name": "b"}).json()
        with Sync() as s:
            rows = list(s.scalars(select(Item.name).order_by(Item.id)))
        print(json.dumps({"first": first, "second": second, "rows": rows}))
    """)
    assert result == {"first": {"count": 1}, "second": {"count": 2}, "rows": ["a", "b"]}


@pytest.mark.parametrize("kind", KINDS)
def test_a_class_dependency_not_holding_the_session_moves_in_place_with_its_route(cli, service, kind):
    root = service({SUBSYSTEM: routes(HELD_ROUTES)})
    document = apply_objects(cli, root)
    # A class injected itself (`Depends()`) whose `__init__` depends on a dependency sharing the
    # request's Session but keeps no Session: its default moves to the dependency's async twin.
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert helper(document, "ItemContext.__init__")["action"] == "migrate"
    text = read(root, SUBSYSTEM)
    assert "    def __init__(self, owner: User = Depends(get_owner_async)) -> None:" in text
    assert "async def add_item(name: str, db: async_session_dependency, ctx: ItemContext = Depends()):" in text
    result = serve(root, kind, """
        made = client.post("/items", params={"name": "x"}).json()
        with Sync() as s:
            rows = list(s.scalars(select(Item.name)))
        print(json.dumps({"made": made, "rows": rows}))
    """)
    assert result == {"made": {"id": 1}, "rows": ["x"]}


def test_a_method_twin_is_named_free_in_the_whole_class_hierarchy(cli, service):
    crud = CRUD.replace(
        "class CRUDItem(CRUDBase[Item]):\n",
        "class CRUDItem(CRUDBase[Item]):\n    get_async = None\n\n",
    )
    root = crud_service(service, crud)
    document = apply_objects(cli, root)
    assert helper(document, "CRUDBase.get")["action"] == "twin"
    assert "get_async_2" in methods_of(root, "crud.py", "CRUDBase")
    assert "crud.user.get_async_2(db, id=1)" in read(root, SUBSYSTEM)


def test_a_second_subsystem_run_is_a_no_op_on_the_classes(cli, service):
    root = crud_service(service)
    apply_objects(cli, root)
    written = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = apply_objects(cli, root)
    assert document["files_changed"] == []
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == written


# ------------------------------------------------------------------ the self-check


SELF_CHECK_ROUTES = """
class Store:
    def save(self, db: Session, name: str) -> None:
        db.add(Item(name=name, owner_id=1))
        db.commit()


store = Store()


@router.post("/items")
def create_item(name: str, db: session_dependency):
    store.save(db, name)
    return {"ok": True}
"""


def test_self_check_a_method_called_without_await_blocks_the_route(cli, service, monkeypatch):
    root = service({SUBSYSTEM: routes(SELF_CHECK_ROUTES)})
    original = plan._plan_calls

    def drop_method_await(project, fid, fplan, *args):  # type: ignore[no-untyped-def]
        original(project, fid, fplan, *args)
        for action in fplan.calls.values():
            if action.kind is CallKind.HELPER:
                action.add_await = False

    monkeypatch.setattr(plan, "_plan_calls", drop_method_await)
    assert_refused(cli, root, "api.items.create_item calls the coroutine function api.items.Store.save without `await`")


def test_self_check_a_method_the_closure_forgets_blocks_the_route(cli, service, monkeypatch):
    root = service({SUBSYSTEM: routes(SELF_CHECK_ROUTES)})
    monkeypatch.setattr(methods, "session_edges", lambda project, fid: [
        e for e in project.calls_from[fid] if e.session_args
    ])
    assert_refused(
        cli, root, "passes the AsyncSession `db` to api.items.Store.save, whose parameter `db` is a synchronous Session"
    )


def test_self_check_near_miss_the_unbroken_plan_migrates_the_method(cli, service):
    root = service({SUBSYSTEM: routes(SELF_CHECK_ROUTES)})
    document = apply_objects(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "await store.save(db, name)" in read(root, SUBSYSTEM)
    assert "    async def save(self, db: AsyncSession, name: str) -> None:" in read(root, SUBSYSTEM)


def apply_objects(cli, root):  # type: ignore[no-untyped-def]
    return apply(cli, root, "--jobs", "1")



# ------------------------------------------------------------ the object-style sample

# Routes phase two migrates per taskboard router, after phase one, applied in this order.
# Before methods moved, none of them did: every route reaching a CRUD instance was blocked.
# The projects routes reach ProjectRepo, which holds the Session on its instances.
TASKBOARD_MIGRATED = {
    "api/users.py": {"list_users", "create_user", "read_user"},
    # Model-layer singletons opening their own Session from SessionLocal move: their methods
    # open an AsyncSession from the async sessionmaker (in place, or as a twin where code that
    # stays synchronous calls them too).
    "api/reports.py": {"workload", "slow_report", "status_counts"},
    "api/tasks.py": {"assign_task", "create_task", "delete_task", "get_task", "list_tasks", "update_task"},
    "api/projects.py": {
        "list_projects", "create_project", "get_project", "update_project", "delete_project",
        "project_summary", "project_report", "request_digest",
    },
    "api/comments.py": set(),
    "api/labels.py": set(),
}


@pytest.fixture(scope="module")
def taskboard_migrated(taskboard_steps):  # type: ignore[no-untyped-def]
    """The taskboard through phase two on each router in turn (tests/steps.py); its API tests
    after each step, on every database, are tests/test_phase2_steps.py."""
    from steps import TASKBOARD_STEPS

    assert TASKBOARD_STEPS == tuple(TASKBOARD_MIGRATED)
    return taskboard_steps.root, taskboard_steps.documents


def test_taskboard_routes_migrate_subsystem_by_subsystem(taskboard_migrated):
    root, documents = taskboard_migrated
    for subsystem, expected in TASKBOARD_MIGRATED.items():
        handlers = documents[subsystem]["handlers"]
        assert {h["function"] for h in handlers if h["action"] == "migrate"} == expected, subsystem
        for found in handlers:  # what does not move says why
            assert found["action"] in ("migrate", "blocked", "unchanged") and found["reasons"], found
    users = documents["api/users.py"]
    # CRUDBase.get and CRUDUser.get_by_token are shared with code that stays synchronous: twins.
    assert helper(users, "CRUDBase.get")["action"] == "twin"
    assert helper(users, "CRUDUser.get_by_token")["action"] == "twin"
    assert helper(users, "CRUDUser.create")["action"] == "migrate"
    assert methods_of(root, "crud/base.py", "CRUDBase")["get_async"] is True
    # Later subsystems reuse the twins the earlier ones added instead of adding `_async_2`.
    assert "its async twin `get_by_token_async` exists already" in " ".join(
        helper(documents["api/tasks.py"], "CRUDUser.get_by_token")["reasons"]
    )
    deps = read(root, "api/deps.py") + read(root, "crud/crud_user.py")
    assert deps.count("def get_current_user_async(") == deps.count("def get_by_token_async(") == 1
    assert "_async_2" not in deps
    # What stays blocked names the line: a repository holding `self.db`, the scoped_session
    # global, a cbv's `self.db`, a method entering `contextmanager(get_session)`.
    blocked = " | ".join(
        r for d in documents.values() for h in d["handlers"] if h["action"] == "blocked" for r in h["reasons"]
    )
    # ProjectRepo holds `self.db`; the tool cannot rule out other callers of its methods
    # (`x.delete(...)` on values it cannot type), so the routes use a parallel async class.
    projects = documents["api/projects.py"]
    assert helper(projects, "ProjectRepo.list")["codes"] == ["AM255"]
    assert helper(projects, "get_repo")["action"] == "twin"
    assert methods_of(root, "repositories/project_repo.py", "ProjectRepoAsync")["create"] is True
    assert methods_of(root, "repositories/project_repo.py", "ProjectRepo")["create"] is False
    # A class injected as a dependency (`Depends(TaskService)`) holding `self.db` moves with its
    # routes. An object whose last Session work commits gets the relationships its response
    # model reads refreshed after that commit: in the service method building it (create_task),
    # in the route after the helper committing what it was handed (update_task) or after the
    # helper committing the route's change (assign_task). add_task_label reads `task.labels` in
    # the service before its commit: still blocked.
    tasks = {h["function"]: h for h in documents["api/tasks.py"]["handlers"]}
    assert "AM222" in tasks["add_task_label"]["codes"] and "AM219" not in tasks["add_task_label"]["codes"]
    assert "response model TaskOut.labels reads relationship Task.labels" in " ".join(tasks["add_task_label"]["reasons"])
    for route in ("create_task", "update_task", "assign_task"):
        assert "AM280" in tasks[route]["codes"] and "AM222" not in tasks[route]["codes"], tasks[route]
    assert (
        "        await self.db.commit()\n"
        '        await self.db.refresh(task, attribute_names=["labels"])\n'
        "        return task\n"
    ) in read(root, "services/task_service.py")
    assert '    await db.refresh(result, attribute_names=["labels"])\n    return result\n' in read(root, "api/tasks.py")
    assert '    await db.refresh(task, attribute_names=["labels"])\n    return task\n' in read(root, "api/tasks.py")
    # list_tasks's objects come from the query on the service's held Session: the method moves
    # with the route, and its query gets the eager load
    assert any(
        "adds the eager load of Task.labels to the query in services.task_service.TaskService.list" in reason
        for reason in tasks["list_tasks"]["reasons"]
    ), tasks["list_tasks"]
    assert "selectinload(Task.labels)" in read(root, "services/task_service.py")
    assert "class dependency" not in blocked
    assert "api/labels.py:17: does Session work on `ScopedSession.query()`" in blocked
    assert "opens a Session of its own" not in blocked
    activity = {h["function"]: h for h in projects["handlers"]}["project_activity"]
    # (line 36: the tasks step added ActivityTable.record's twin above it, for assign_task and create_task)
    assert "models/activity.py:36: does Session work on `with get_db() as db -> db.scalars()`" in " ".join(
        activity["reasons"]
    )
    # `Projects.exists` is shared with api/live.py: a twin beside it; get_summary moves in place,
    # its lazy `project.owner` eager-loaded; ReportQueries' methods move in place.
    table = methods_of(root, "models/project.py", "ProjectsTable")
    assert table == {"exists": False, "exists_async": True, "get_summary": True}, table
    model = read(root, "models/project.py")
    assert "async with async_database_sessionmaker() as db:" in model and "with SessionLocal() as db:" in model
    assert "selectinload(Project.owner)" in model
    assert methods_of(root, "services/reports.py", "ReportQueries") == {"heavy_count": True, "status_counts": True}
    assert "expire_on_commit=False" in read(root, "db/engine.py").split("async_sessionmaker(", 1)[1].split("\n")[0]


# An override whose base method stays synchronous: calls pinned to the base may run it.
OVERRIDE_CRUD = CRUD.replace(
    "    def create(self, db: Session, **values) -> Item:\n        self._owner(db, values[\"owner_id\"])\n        return super().create(db, **values)\n",
    "    def create(self, db: Session, **values) -> Item:\n        self._owner(db, values[\"owner_id\"])\n        obj = Item(**values)\n        db.add(obj)\n        db.commit()\n        return obj\n",
).replace(
    "    def names(self, db: Session) -> list[str]:\n",
    "    def create_many(self, db: Session, names: list[str]) -> None:\n        for name in names:\n            self.create(db, name=name, owner_id=2)\n\n    def names(self, db: Session) -> list[str]:\n",
)
OVERRIDE_ADMIN = ADMIN + """

@router.post("/admin/items")
def admin_items(db: Session = Depends(get_db_session)):
    crud.item.create_many(db, ["x", "y"])
    return {"ok": True}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_an_override_of_a_synchronous_base_method_gets_a_twin_and_base_calls_still_run_it(cli, service, kind):
    root = service({
        "crud.py": OVERRIDE_CRUD,
        "api/admin.py": OVERRIDE_ADMIN,
        "main.py": MAIN,
        SUBSYSTEM: routes(CRUD_ROUTES).replace("from models import", "import crud\nfrom models import"),
    })
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate"
    found = helper(document, "CRUDItem.create")
    assert found["action"] == "twin"
    assert "(the overridden CRUDBase.create)" in " ".join(found["reasons"])
    assert methods_of(root, "crud.py", "CRUDItem")["create"] is False
    result = serve(root, kind, """
        made = client.post("/items", params={"name": "pen"}).json()
        admin = client.post("/admin/items").json()
        with Sync() as s:
            rows = sorted((i.name, i.owner_id) for i in s.scalars(select(Item)))
        print(json.dumps({"made": made, "admin": admin, "rows": rows}))
    """)
    assert result == {"made": {"id": 1, "owner": "Ann"}, "admin": {"ok": True}, "rows": [["pen", 1], ["x", 2], ["y", 2]]}


def test_a_method_aliased_in_its_class_body_gets_a_twin(cli, service):
    crud = CRUD.replace(
        "    def create(self, db: Session, **values) -> ModelT:\n",
        "    listing = names\n\n    def create(self, db: Session, **values) -> ModelT:\n",
    )
    root = crud_service(service, crud)
    document = apply_objects(cli, root)
    assert helper(document, "CRUDBase.names")["action"] == "twin"
    assert methods_of(root, "crud.py", "CRUDBase")["names"] is False


def test_near_miss_without_the_alias_the_method_moves_in_place(cli, service):
    root = crud_service(service)
    document = apply_objects(cli, root)
    assert helper(document, "CRUDBase.names")["action"] == "migrate"


# `query(self.model)`: `self.model` holds the class `__init__` received as `Type[ModelT]`.
LEGACY_CRUD = (
    CRUD.replace("from typing import Generic, TypeVar", "from typing import Generic, Type, TypeVar")
    .replace("def __init__(self, model: type[ModelT])", "def __init__(self, model: Type[ModelT])")
    .replace(
        "return list(db.scalars(select(self.model.name).order_by(self.model.id)))",
        "return [obj.name for obj in db.query(self.model).order_by(self.model.id).all()]",
    )
    .replace(
        "return db.get(self.model, id)",
        "return db.query(self.model).filter(self.model.id == id).first()",
    )
)


def test_a_legacy_query_of_a_type_annotated_model_attribute_migrates_and_writes(cli, service):
    assert "db.query(self.model).order_by" in LEGACY_CRUD and "model: Type[ModelT]" in LEGACY_CRUD
    root = crud_service(service, LEGACY_CRUD)
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert handler(document, "item_names")["action"] == "migrate", handler(document, "item_names")
    text = read(root, "crud.py")
    assert "(await db.scalars(select(self.model).order_by(self.model.id))).unique().all()" in text
    assert "select(self.model).where(self.model.id == id).limit(1)" in text
    result = serve(root, "sqlite", """
        created = client.post("/items", params={"name": "pen"})
        names = client.get("/items")
        with Sync() as s:
            rows = [(i.name, i.owner_id) for i in s.scalars(select(Item))]
        print(json.dumps({"created": created.json(), "names": names.json(), "rows": rows}))
    """)
    assert result == {"created": {"id": 1, "owner": "Ann"}, "names": ["pen"], "rows": [["pen", 1]]}


def test_near_miss_an_unannotated_model_attribute_still_blocks_the_legacy_query(cli, service):
    root = crud_service(service, LEGACY_CRUD.replace("model: Type[ModelT]", "model"))
    document = apply_objects(cli, root)
    reasons = " ".join(handler(document, "item_names")["reasons"])
    assert handler(document, "item_names")["action"] == "blocked"
    assert "cannot tell whether `self.model`" in reasons
