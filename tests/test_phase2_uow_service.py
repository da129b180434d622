"""Service functions handed a unit of work that holds the route's Session.

`add_item(name, uow)` called from a route that builds `UnitOfWork(db)` around its own
Session: the unit of work moves with the route, and so does the service function
taking it, awaited up the chain as a helper taking the Session itself is.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects
from test_phase2_rules import handler, helper, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

UOW = """
class ItemRepo:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, name: str) -> None:
        self.db.add(Item(name=name, owner_id=1))


class UnitOfWork:
    def __init__(self, db: Session) -> None:
        self.db = db
        self.items = ItemRepo(db)

    def commit(self) -> None:
        self.db.commit()


def add_item(name: str, uow{annotation}) -> None:
    uow.items.add(name)
    uow.commit()
"""
ROUTES = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    {call}
    return {"ok": True}
"""


INLINE = "add_item(name, UnitOfWork(db))"
NAMED = "uow = UnitOfWork(db)\n    add_item(name, uow)"


def tree(annotation, call=INLINE):  # type: ignore[no-untyped-def]
    return {SUBSYSTEM: routes(UOW.replace("{annotation}", annotation), ROUTES.replace("{call}", call))}


def probe(cli, service, annotation, call=INLINE):  # type: ignore[no-untyped-def]
    root = service(tree(annotation, call))
    return root, apply_objects(cli, root)


@pytest.mark.parametrize("call", [INLINE, NAMED])
@pytest.mark.parametrize("annotation", ["", ": UnitOfWork"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_service_function_given_the_unit_of_work_moves_with_the_route_and_writes(
    cli, service, kind, annotation, call
):  # type: ignore[no-untyped-def]
    root, document = probe(cli, service, annotation, call)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    for name in ("add_item", "UnitOfWork.commit", "ItemRepo.add"):
        assert helper(document, name)["action"] == "migrate", helper(document, name)
    text = read(root, SUBSYSTEM)
    assert f"async def add_item(name: str, uow{annotation}) -> None:" in text
    assert "    await uow.items.add(name)\n    await uow.commit()" in text
    assert "    await add_item(name, " in text
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "pen"})
        with Sync() as s:
            stored = [i.name for i in s.scalars(select(Item))]
        print(json.dumps([created.status_code, stored]))
    """)
    assert result == [200, ["pen"]]


ADMIN = """
from fastapi import APIRouter

from api.items import UnitOfWork, add_item
from core.dependencies import session_dependency

router = APIRouter()


@router.post("/admin/items")
def admin_add(name: str, db: session_dependency):
    add_item(name, UnitOfWork(db))
    return {"ok": True}
"""
TWO_ROUTERS = """
from fastapi import FastAPI

from api import admin, items

app = FastAPI()
app.include_router(items.router)
app.include_router(admin.router)
"""


@pytest.mark.parametrize("annotation", ["", ": UnitOfWork"])
def test_a_service_function_shared_with_a_route_that_stays_gets_a_twin_on_the_parallel_class(
    cli, service, annotation
):  # type: ignore[no-untyped-def]
    root = service({**tree(annotation), "api/admin.py": ADMIN, "main.py": TWO_ROUTERS})
    document = apply_objects(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert helper(document, "add_item")["twin"] == "add_item_async"
    text = read(root, SUBSYSTEM)
    twin = ": UnitOfWorkAsync" if annotation else ""
    assert f"def add_item(name: str, uow{annotation}) -> None:\n    uow.items.add(name)" in text
    assert f"async def add_item_async(name: str, uow{twin}) -> None:\n    await uow.items.add(name)" in text
    assert "    await add_item_async(name, UnitOfWorkAsync(db))" in text
    result = serve(root, "sqlite", """
        created = client.post("/items", params={"name": "pen"})
        other = client.post("/admin/items", params={"name": "ink"})
        with Sync() as s:
            stored = sorted(i.name for i in s.scalars(select(Item)))
        print(json.dumps([created.status_code, other.status_code, stored]))
    """)
    assert result == [200, 200, ["ink", "pen"]]


# ------------------------------------------- a repository built around the held Session

BUILDS = """
class ItemRepo:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, name: str) -> None:
        self.db.add(Item(name=name, owner_id=1))

    def count(self) -> int:
        return self.db.scalar(select(func.count(Item.id)))


class UnitOfWork:
    def __init__(self, db: Session) -> None:
        self.db = db
        {init}

    def __enter__(self):
        {enter}
        return self

    def __exit__(self, *args):
        pass

    def commit(self) -> None:
        self.db.commit()
"""
WITH_ROUTE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    with UnitOfWork(db) as uow:
        uow.items.add(name)
        uow.commit()
        return {"count": uow.items.count()}
"""
BUILT = "self.items = ItemRepo(self.db)"


@pytest.mark.parametrize("kind", KINDS)
def test_building_a_repository_in_init_is_no_session_work_and_its_methods_still_move(cli, service, kind):
    # `ItemRepo(self.db)` stores the Session: no I/O, and `__init__` stays a plain `def` taking
    # the AsyncSession. The repository it builds holds it, so its methods are awaited.
    text = BUILDS.replace("{init}", BUILT).replace("{enter}", "pass")
    root = service({SUBSYSTEM: routes(text, WITH_ROUTE)})
    document = apply_objects(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    written = read(root, SUBSYSTEM)
    assert "    def __init__(self, db: AsyncSession) -> None:\n        self.db = db\n        self.items = ItemRepo" in written
    assert "        await uow.items.add(name)\n        await uow.commit()" in written
    assert "return {\"count\": await uow.items.count()}" in written
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "pen"})
        with Sync() as s:
            stored = [i.name for i in s.scalars(select(Item))]
        print(json.dumps([created.status_code, created.json(), stored]))
    """)
    assert result == [200, {"count": 1}, ["pen"]]


NAMED_ROUTE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    uow = UnitOfWork(db)
    with uow:
        uow.items.add(name)
        uow.commit()
        return {"count": uow.items.count()}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_repository_built_in_enter_moves_with_the_unit_of_work_entered_by_name(cli, service, kind):
    # `__enter__` builds the repository: the class moves as an asynchronous context manager, its
    # `__aenter__` building the repository's parallel class around the AsyncSession.
    text = BUILDS.replace("{init}", "pass").replace("{enter}", BUILT)
    root = service({SUBSYSTEM: routes(text, NAMED_ROUTE)})
    document = apply_objects(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    written = read(root, SUBSYSTEM)
    assert "    async def __aenter__(self):\n        self.items = ItemRepo" in written, written
    assert "    async with uow:\n        await uow.items.add(name)" in written, written
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "pen"})
        with Sync() as s:
            stored = [i.name for i in s.scalars(select(Item))]
        print(json.dumps([created.status_code, created.json(), stored]))
    """)
    assert result == [200, {"count": 1}, ["pen"]]


def test_a_unit_of_work_built_in_its_with_statement_moves_with_it(cli, service):
    # `with UnitOfWork(db) as uow:` builds what it enters: `async with UnitOfWork(db) as uow:`,
    # the construction not awaited.
    text = BUILDS.replace("{init}", "pass").replace("{enter}", BUILT)
    root = service({SUBSYSTEM: routes(text, WITH_ROUTE)})
    found = handler(apply_objects(cli, root), "create_item")
    assert found["action"] == "migrate", found
    written = read(root, SUBSYSTEM)
    assert "    async with UnitOfWork(db) as uow:\n        await uow.items.add(name)" in written, written
    assert "await UnitOfWork" not in written, written
    result = serve(root, "sqlite", """
        created = client.post("/items", params={"name": "pen"})
        with Sync() as s:
            stored = [i.name for i in s.scalars(select(Item))]
        print(json.dumps([created.status_code, created.json(), stored]))
    """)
    assert result == [200, {"count": 1}, ["pen"]]


STORES = '''
import abc

from sqlalchemy import text
from sqlalchemy.orm import Session


class AbstractRepository(abc.ABC):
    def __init__(self):
        self.seen = set()

    @abc.abstractmethod
    def get(self, sku): ...


class SqlAlchemyRepository(AbstractRepository):
    def __init__(self, session: Session):
        super().__init__()
        self.session = session

    def get(self, sku):
        return self.session.execute(text("select 1")).scalar()


class Warming(SqlAlchemyRepository):
    def __init__(self, session: Session):
        super().__init__(session)
        self.session.execute(text("select 1"))


class UnitOfWork:
    def __init__(self, session: Session):
        self.session = session

    def __enter__(self):
        self.products = SqlAlchemyRepository(self.session)
        return self

    def warm(self):
        self.products = Warming(self.session)
'''


def test_handing_the_session_to_a_class_that_only_stores_it_is_no_session_work(project):
    from async_migrate.codemods.config import Config
    from async_migrate.codemods.run import Options, collect_project
    from async_migrate.codemods.workers import Pool

    root = project({"uow.py": STORES})
    with Pool(root, 1) as pool:
        index, errors, _ = collect_project(root, Config(), Options(jobs=1), pool, keep=())
    assert errors == []
    assert index.own_work(("uow", "UnitOfWork.__enter__")) == []
    assert index.stores_session("uow.SqlAlchemyRepository")
    # Near miss: a constructor doing I/O on the Session it is given is Session work.
    assert not index.stores_session("uow.Warming")
    assert ("uow", "UnitOfWork.warm") in index.work_chains
    assert ("uow", "SqlAlchemyRepository.get") in index.work_chains


def test_the_self_check_blocks_a_plan_that_moves_the_repository_but_not_where_it_is_built(cli, service, monkeypatch):
    # The closure "forgets" that `__enter__` builds the repository: ItemRepo gets its parallel
    # class, `__enter__` still builds the synchronous one around the AsyncSession, and the route
    # would await its plain `add`. The self-check reads the class's other methods too.
    from async_migrate.codemods.phase2 import closure as closures
    from async_migrate.codemods.phase2 import holders, methods

    original_uses, original_next = holders.uses_held, closures._reach_next

    def uses(project, fid, holder):  # type: ignore[no-untyped-def]
        return project.functions[fid][1].name != "__enter__" and original_uses(project, fid, holder)

    def reach_next(project, fid, whole_holders):  # type: ignore[no-untyped-def]
        found = original_next(project, fid, whole_holders)
        if project.functions[fid][1].qualname == "UnitOfWork.commit":
            found = [*found, *(f for f in project.functions if project.functions[f][1].qualname == "ItemRepo.__init__")]
        return found

    monkeypatch.setattr(holders, "uses_held", uses)
    monkeypatch.setattr(closures, "_reach_next", reach_next)
    monkeypatch.setattr(methods, "_builds_on_held", lambda project, fid: None)
    text = BUILDS.replace("{init}", "pass").replace("{enter}", BUILT)
    route = WITH_ROUTE.replace('return {"count": uow.items.count()}', 'return {"ok": True}')
    root = service({SUBSYSTEM: routes(text, route)})
    found = handler(apply_objects(cli, root), "create_item")
    assert found["action"] == "blocked", found
    assert any(
        "self-check: UnitOfWork.__enter__: passes the held AsyncSession `self.db` to api.items.ItemRepo.__init__" in r
        for r in found["reasons"]
    ), found["reasons"]


# ------------------------------- a unit of work handed to what runs it later or elsewhere

HANDED_OFF = {
    "add_task": "tasks.add_task(add_item, name, UnitOfWork(db))",
    "add_task_named": "uow = UnitOfWork(db)\n    tasks.add_task(add_item, name, uow)",
    "thread": (
        "worker = threading.Thread(target=add_item, args=(name, UnitOfWork(db)))\n"
        "    worker.start()\n    worker.join()"
    ),
    "thread_named": (
        "uow = UnitOfWork(db)\n    worker = threading.Thread(target=add_item, args=[name, uow])\n"
        "    worker.start()\n    worker.join()"
    ),
}
# Through a wrapper the rewrite drops as it drops `run_in_threadpool(add_item, ...)`.
HANDED_TO_THREAD = {
    "executor": "await asyncio.get_running_loop().run_in_executor(None, add_item, name, UnitOfWork(db))",
}
# The unit of work bound in a partial: the plan leaves `add_item` synchronous, which the self-check refuses.
HANDED_IN_PARTIAL = "await run_in_threadpool(functools.partial(add_item, name, UnitOfWork(db)))"
HANDING_ROUTE = """
import asyncio
import functools
import threading

from fastapi import BackgroundTasks
from starlette.concurrency import run_in_threadpool


@router.post("/items")
{asynchronous}def create_item(name: str, tasks: BackgroundTasks, db: session_dependency):
    {call}
    return {"ok": True}
"""


HANDED_CHECK = """
    created = client.post("/items", params={"name": "pen"})
    with Sync() as s:
        stored = [i.name for i in s.scalars(select(Item))]
    print(json.dumps([created.status_code, stored]))
"""


@pytest.mark.parametrize("shape", sorted(HANDED_OFF))
def test_a_unit_of_work_on_the_routes_session_handed_to_a_task_or_thread_blocks_the_route(cli, service, shape):
    # Migrated, `UnitOfWork(db)` would hold the AsyncSession while the synchronous `add_item`,
    # run after the response or on another thread, calls `uow.commit()` without await: the
    # coroutine is dropped and the item never written, after a 200.
    route = HANDING_ROUTE.replace("{call}", HANDED_OFF[shape])
    root = service({SUBSYSTEM: routes(UOW.replace("{annotation}", ": UnitOfWork"), route.replace("{asynchronous}", ""))})
    found = handler(apply_objects(cli, root), "create_item")
    assert found["action"] == "blocked", found
    assert any("which holds the Session, to `" in reason for reason in found["reasons"]), found["reasons"]
    assert "AsyncSession" not in read(root, SUBSYSTEM)
    assert serve(root, "sqlite", HANDED_CHECK) == [200, ["pen"]]


@pytest.mark.parametrize("shape", sorted(HANDED_TO_THREAD))
def test_a_unit_of_work_handed_through_run_in_executor_or_partial_is_awaited_in_place_and_writes(cli, service, shape):
    # `run_in_executor(None, add_item, ...)` and `partial(add_item, ...)` are dropped as
    # `run_in_threadpool(add_item, ...)` is. Before, the route blocked (AM224); earlier still
    # the rewrite wrote `await functools.partial(add_item, ...)()`, the synchronous one, raising.
    route = HANDING_ROUTE.replace("{call}", HANDED_TO_THREAD[shape])
    root = service({SUBSYSTEM: routes(UOW.replace("{annotation}", ": UnitOfWork"), route.replace("{asynchronous}", "async "))})
    assert serve(root, "sqlite", HANDED_CHECK) == [200, ["pen"]]
    found = handler(apply_objects(cli, root), "create_item")
    assert found["action"] == "migrate", (found["codes"], found["reasons"])
    assert "    await add_item(name, UnitOfWork(db))\n" in read(root, SUBSYSTEM)
    assert serve(root, "sqlite", HANDED_CHECK) == [200, ["pen"]]


def test_a_unit_of_work_bound_in_a_partial_handed_to_a_thread_blocks_and_still_writes(cli, service):
    route = HANDING_ROUTE.replace("{call}", HANDED_IN_PARTIAL)
    root = service({SUBSYSTEM: routes(UOW.replace("{annotation}", ": UnitOfWork"), route.replace("{asynchronous}", "async "))})
    found = handler(apply_objects(cli, root), "create_item")
    assert found["action"] == "blocked" and set(found["codes"]) == {"AM223"}, found
    assert "self-check: api.items.add_item calls the coroutine function" in found["reasons"][0], found
    assert "AsyncSession" not in read(root, SUBSYSTEM)
    assert serve(root, "sqlite", HANDED_CHECK) == [200, ["pen"]]


INJECTED = """
import logging

from fastapi import BackgroundTasks

logger = logging.getLogger(__name__)


class ItemRepo:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, name: str) -> None:
        self.db.add(Item(name=name, owner_id=1))

    def count(self) -> int:
        return self.db.scalar(select(func.count(Item.id)))


class UnitOfWork:
    def __init__(self, db: session_dependency) -> None:
        self.db = db
        self.items = ItemRepo(db)

    def commit(self) -> None:
        self.db.commit()


def add_item(name: str, uow: UnitOfWork) -> None:
    uow.items.add(name)
    uow.commit()


@router.post("/items")
def create_item(name: str, tasks: BackgroundTasks, uow: UnitOfWork = Depends()):
    {call}
    return {"before": uow.items.count()}
"""


@pytest.mark.parametrize(
    ("call", "action"),
    [
        ("tasks.add_task(add_item, name, uow)", "blocked"),
        # logging reads the instance, runs none of its methods: the route moves, and writes
        ("logger.info('adding %s with %s', name, uow)\n    add_item(name, uow)", "migrate"),
    ],
)
def test_a_class_dependency_unit_of_work_handed_to_a_background_task_blocks_the_route(cli, service, call, action):
    # `uow: UnitOfWorkAsync = Depends()` once migrated: the task, run after the response, would
    # call `uow.items.add(...)` and `uow.commit()` of the async class without await.
    root = service({SUBSYSTEM: routes(INJECTED.replace("{call}", call))})
    found = handler(apply_objects(cli, root), "create_item")
    assert found["action"] == action, found
    if action == "blocked":
        assert any("hands `uow`, which holds the Session, to `tasks.add_task()`" in r for r in found["reasons"]), found
    result = serve(root, "sqlite", """
        created = client.post("/items", params={"name": "pen"})
        with Sync() as s:
            stored = [i.name for i in s.scalars(select(Item))]
        print(json.dumps([created.status_code, stored]))
    """)
    assert result == [200, ["pen"]]
