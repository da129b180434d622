"""A unit of work opening its own Session (the "Cosmic Python" shape) moves as an
asynchronous context manager.

`__init__(self, session_factory=SessionLocal)`, `__enter__` opening `self.session =
self.session_factory()` and building a repository on it, `__exit__` rolling back and closing,
a service entering it (`with uow:`) and committing through it, the route given it by a
dependency (`Depends(get_uow)`) or building it inline. Phase two moves the class (in place, or
as a parallel class beside it for the routes that stay) with `async def __aenter__`/`__aexit__`,
its factory defaulting to the async sessionmaker, the repository and the service awaited, and
the dependency twinned; the tests run it and read the rows back, a failed block rolled back.
What it cannot move blocks with one reason naming the class and every use of its Session.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve

service = test_phase2_soundness.service

UOW = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Item


class ItemRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, item):
        self.session.add(item)

    def get(self, name):
        return self.session.scalars(select(Item).filter_by(name=name)).first()


class SqlAlchemyUnitOfWork:
    def __init__(self, session_factory=database_sessionmaker):
        self.session_factory = session_factory

    def __enter__(self):
        self.session = self.session_factory()
        self.items = ItemRepository(self.session)
        return self

    def __exit__(self, *args):
        self.rollback()
        self.session.close()

    def commit(self):
        self.session.commit()

    def rollback(self):
        self.session.rollback()


def get_uow():
    return SqlAlchemyUnitOfWork()


def add_item(name, uow) -> int:
    with uow:
        uow.items.add(Item(name=name, owner_id=1))
        if name == "boom":
            raise ValueError(name)
        uow.commit()
        return uow.items.get(name).id
"""
ROUTES = (
    """
    from uow import SqlAlchemyUnitOfWork, add_item, get_uow
    """,
    """
    @router.post("/items")
    async def create_item(name: str, uow: SqlAlchemyUnitOfWork = Depends(get_uow)):
        return {"id": add_item(name, uow)}
    """,
    """
    @router.post("/inline")
    async def create_inline(name: str):
        return {"id": add_item(name, SqlAlchemyUnitOfWork())}
    """,
    """
    @router.get("/count")
    async def count_items(db: session_dependency):
        return {"n": db.scalar(select(func.count(Item.id)))}
    """,
)


RUN = """
    created = client.post("/items", params={"name": "pen"})
    inline = client.post("/inline", params={"name": "ink"})
    failures = []
    for _ in range(3):  # each failed block rolled back, its connection given back
        try:
            client.post("/items", params={"name": "boom"})
        except ValueError as error:
            failures.append(str(error))
    counted = client.get("/count")
    with Sync() as s:
        stored = sorted(i.name for i in s.scalars(select(Item)))
    print(json.dumps([created.status_code, inline.status_code, failures, counted.json(), stored]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_unit_of_work_opening_its_own_session_moves_as_an_async_context_manager(cli, service, kind):
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW})
    document = apply(cli, root)
    for name in ("create_item", "create_inline", "count_items"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = read(root, "uow.py")
    assert "    def __init__(self, session_factory=async_database_sessionmaker):\n" in text, text
    assert (
        "    async def __aenter__(self):\n        self.session = self.session_factory()\n"
        "        self.items = ItemRepository(self.session)\n        return self\n"
    ) in text, text
    assert "    async def __aexit__(self, *args):\n        await self.rollback()\n        await self.session.close()\n" in text
    assert "    async with uow:\n        await uow.items.add(Item(name=name, owner_id=1))\n" in text, text
    result = serve(root, kind, RUN)
    assert result == [200, 200, ["boom"] * 3, {"n": 2}, ["ink", "pen"]]


PLACEHOLDER = "        self.session_factory = session_factory\n"


@pytest.mark.parametrize("kind", KINDS)
def test_a_unit_of_work_declaring_its_session_none_in_init_moves(cli, service, kind):
    # `self.session = None` in `__init__` (the common placeholder) stores no Session: the class is
    # still the shape that moves, and its copy keeps the placeholder.
    placeholder = UOW.replace(PLACEHOLDER, PLACEHOLDER + "        self.session = None\n")
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": placeholder})
    document = apply(cli, root)
    for name in ("create_item", "create_inline", "count_items"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = read(root, "uow.py")
    assert (
        "    def __init__(self, session_factory=async_database_sessionmaker):\n"
        "        self.session_factory = session_factory\n        self.session = None\n\n"
        "    async def __aenter__(self):\n        self.session = self.session_factory()\n"
    ) in text, text
    assert serve(root, kind, RUN) == [200, 200, ["boom"] * 3, {"n": 2}, ["ink", "pen"]]


def test_near_miss_a_unit_of_work_opening_its_session_in_init_stays_blocked(cli, service):
    # Not a placeholder: `__init__` opens the Session itself (Python never awaits `__init__`).
    opened = UOW.replace(PLACEHOLDER, PLACEHOLDER + "        self.session = session_factory()\n")
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": opened})
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked", found
    assert "`SqlAlchemyUnitOfWork` is neither" in found["reasons"][0], found["reasons"]
    assert "__aenter__" not in read(root, "uow.py")


ADMIN = """
from fastapi import APIRouter

from uow import add_item, get_uow, SqlAlchemyUnitOfWork
from fastapi import Depends

router = APIRouter()


@router.post("/admin/items")
def admin_add(name: str, uow: SqlAlchemyUnitOfWork = Depends(get_uow)):
    return {"id": add_item(name, uow)}
"""
TWO_ROUTERS = """
from fastapi import FastAPI

from api import admin, items

app = FastAPI()
app.include_router(items.router)
app.include_router(admin.router)
"""


def test_a_unit_of_work_a_route_that_stays_uses_gets_a_parallel_class(cli, service):
    # `admin_add` is a plain `def` on the synchronous unit of work: it keeps the class, the
    # dependency and the service; the migrated routes get their asynchronous copies.
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW, "api/admin.py": ADMIN, "main.py": TWO_ROUTERS})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    text = read(root, "uow.py")
    assert "class SqlAlchemyUnitOfWork:\n    def __init__(self, session_factory=database_sessionmaker):" in text
    assert "class SqlAlchemyUnitOfWorkAsync:\n    def __init__(self, session_factory=async_database_sessionmaker):" in text
    assert "def get_uow_async():\n    return SqlAlchemyUnitOfWorkAsync()" in text, text
    assert "uow: SqlAlchemyUnitOfWorkAsync = Depends(get_uow_async)" in read(root, SUBSYSTEM)
    result = serve(root, "sqlite", RUN.replace(
        "counted = client.get", 'admin = client.post("/admin/items", params={"name": "ok"}).status_code\n'
        "    counted = client.get"
    ).replace("[created.status_code,", "[admin, created.status_code,"))
    assert result == [200, 200, 200, ["boom"] * 3, {"n": 3}, ["ink", "ok", "pen"]]


def test_near_miss_a_repository_taking_the_session_unannotated_blocks_naming_it(cli, service):
    # The rewrite's analysis has no value for what the async sessionmaker opens: an unannotated
    # parameter would be read as anything. The route stays, told what to annotate, and still works.
    unannotated = UOW.replace("def __init__(self, session: Session):", "def __init__(self, session):")
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": unannotated})
    document = apply(cli, root)
    for name in ("create_item", "create_inline"):
        found = handler(document, name)
        assert (found["action"], found["codes"]) == ("blocked", ["AM241"]), found
        (reason,) = found["reasons"]
        assert "opens itself into `self.session` of `SqlAlchemyUnitOfWork` (uow.py:19)" in reason, reason
        assert "ItemRepository.__init__ receives the Session SqlAlchemyUnitOfWork.__enter__ opens as `session`, " \
            "with no annotation: annotate it (`session: Session`)" in reason, reason
        # the repository's `get` (line 16) is a use of the same Session, not a second reason
        assert reason.endswith("; the same at uow.py:16, uow.py:30, uow.py:36"), reason
    assert handler(document, "count_items")["action"] == "migrate"
    assert "__aenter__" not in read(root, "uow.py")
    assert serve(root, "sqlite", RUN) == [200, 200, ["boom"] * 3, {"n": 2}, ["ink", "pen"]]


def test_near_miss_a_factory_defaulting_to_another_database_blocks(cli, service):
    other = UOW.replace(
        "from db.engine import database_sessionmaker\n",
        "from sqlalchemy import create_engine\nfrom sqlalchemy.orm import sessionmaker\n\n"
        "from db.engine import database_sessionmaker\n\nreports = sessionmaker(create_engine(\"sqlite://\"))\n",
    ).replace("session_factory=database_sessionmaker", "session_factory=reports")
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": other})
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked", found
    assert any("another sessionmaker than the async stack's" in r for r in found["reasons"]), found["reasons"]
    assert "__aenter__" not in read(root, "uow.py")


def test_near_miss_a_unit_of_work_built_with_a_factory_of_its_own_blocks_that_route(cli, service):
    # `SqlAlchemyUnitOfWork(database_sessionmaker)`: its copy would open from the synchronous
    # sessionmaker it is given. That route stays; the one using the dependency still moves.
    given = ROUTES[2].replace("SqlAlchemyUnitOfWork())", "SqlAlchemyUnitOfWork(database_sessionmaker))")
    head = ROUTES[0].rstrip() + "\n    from db.engine import database_sessionmaker\n"
    root = service({SUBSYSTEM: routes(head, ROUTES[1], given, ROUTES[3]), "uow.py": UOW})
    document = apply(cli, root)
    found = handler(document, "create_inline")
    assert (found["action"], found["codes"]) == ("blocked", ["AM241"]), found
    assert "builds SqlAlchemyUnitOfWork with arguments of its own" in found["reasons"][0], found["reasons"]
    assert handler(document, "create_item")["action"] == "migrate"
    assert serve(root, "sqlite", RUN) == [200, 200, ["boom"] * 3, {"n": 2}, ["ink", "pen"]]


BUS = """

class MessageBus:
    def __init__(self, uow):
        self.uow = uow


bus = MessageBus(SqlAlchemyUnitOfWork())
"""


def test_near_miss_a_unit_of_work_a_module_level_bus_keeps_stays_blocked(cli, service):
    # One unit of work every request shares: no per-request Session to hand it, whatever it holds.
    route = """
    @router.post("/bus")
    async def create_on_bus(name: str):
        return {"id": add_item(name, bus.uow)}
    """
    root = service({
        SUBSYSTEM: routes(ROUTES[0].replace("get_uow", "bus, get_uow"), route, ROUTES[3]),
        "uow.py": UOW + BUS,
    })
    document = apply(cli, root)
    found = handler(document, "create_on_bus")
    assert found["action"] == "blocked", found
    assert any("SqlAlchemyUnitOfWork" in reason for reason in found["reasons"]), found["reasons"]
    assert handler(document, "count_items")["action"] == "migrate"
    assert "__aenter__" not in (root / "uow.py").read_text(encoding="utf-8")


REACHED_OTHERWISE = """

UOWS = {"sql": SqlAlchemyUnitOfWork}


def make_uow():
    return UOWS["sql"]()


def add_from_table(name) -> int:
    with make_uow() as uow:
        uow.items.add(Item(name=name, owner_id=1))
        uow.commit()
        return 1


def add_on_stack(name) -> int:
    with contextlib.ExitStack() as stack:
        uow = stack.enter_context(SqlAlchemyUnitOfWork())
        uow.items.add(Item(name=name, owner_id=1))
        uow.commit()
        return 1
"""


RUN_OTHERWISE = """
    created = client.post("/items", params={"name": "pen"}).status_code
    tabled = client.post("/table", params={"name": "ink"}).status_code
    stacked = client.post("/stack", params={"name": "cap"}).status_code
    counted = client.get("/count")
    with Sync() as s:
        stored = sorted(i.name for i in s.scalars(select(Item)))
    print(json.dumps([created, tabled, stacked, counted.json(), stored]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_the_moving_shape_reached_otherwise_blocks_saying_how_it_would_move(cli, service, kind):
    # The class is the shape phase two moves, but these routes build it out of a table or enter
    # it through an ExitStack: blocked, and the reason says so, never that the class is "neither"
    # shape. The route given it by the dependency still moves.
    routes_ = (
        ROUTES[0].rstrip() + ", add_from_table, add_on_stack\n",
        ROUTES[1],
        """
        @router.post("/table")
        async def from_table(name: str):
            return {"id": add_from_table(name)}
        """,
        """
        @router.post("/stack")
        async def on_stack(name: str):
            return {"id": add_on_stack(name)}
        """,
        ROUTES[3],
    )
    root = service({SUBSYSTEM: routes(*routes_), "uow.py": "import contextlib\n" + UOW + REACHED_OTHERWISE})
    document = apply(cli, root)
    for name in ("from_table", "on_stack"):
        found = handler(document, name)
        assert found["action"] == "blocked", (found["action"], found["reasons"])
        reason = " ".join(found["reasons"])
        assert "is neither" not in reason, reason
        assert "`SqlAlchemyUnitOfWork` is a unit of work phase two moves as an asynchronous context manager " \
            "(its `__init__` takes `session_factory` defaulting to the sessionmaker), but only where" in reason, reason
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    # the blocked routes keep the synchronous class, the migrated one its asynchronous copy
    assert serve(root, kind, RUN_OTHERWISE) == [200, 200, 200, {"n": 3}, ["cap", "ink", "pen"]]



LOCAL = """
    @router.post("/inline")
    def create_inline(name: str):
        uow = SqlAlchemyUnitOfWork()
        ref = add_item(name, uow)
        return {"id": ref}
    """


@pytest.mark.parametrize("kind", KINDS)
def test_a_unit_of_work_bound_to_a_local_and_handed_on_moves_as_one_built_inline(cli, service, kind):
    # `uow = SqlAlchemyUnitOfWork()` then `add_item(name, uow)`, the name used nowhere else: the
    # instance is as fresh as `add_item(name, SqlAlchemyUnitOfWork())`, and moves the same way.
    root = service({SUBSYSTEM: routes(ROUTES[0], ROUTES[1], LOCAL, ROUTES[3]), "uow.py": UOW})
    document = apply(cli, root)
    for name in ("create_item", "create_inline", "count_items"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = read(root, SUBSYSTEM)
    assert "    uow = SqlAlchemyUnitOfWork()\n    ref = await add_item(name, uow)\n" in text, text
    assert serve(root, kind, RUN) == [200, 200, ["boom"] * 3, {"n": 2}, ["ink", "pen"]]


def test_a_unit_of_work_bound_to_a_local_beside_a_route_that_stays_gets_the_parallel_class(cli, service):
    root = service({
        SUBSYSTEM: routes(ROUTES[0], ROUTES[1], LOCAL, ROUTES[3]), "uow.py": UOW, "api/admin.py": ADMIN,
        "main.py": TWO_ROUTERS,
    })
    document = apply(cli, root)
    assert handler(document, "create_inline")["action"] == "migrate", handler(document, "create_inline")
    assert "    uow = SqlAlchemyUnitOfWorkAsync()\n    ref = await add_item_async(name, uow)\n" in read(
        root, SUBSYSTEM
    ), read(root, SUBSYSTEM)
    result = serve(root, "sqlite", RUN.replace(
        "counted = client.get", 'admin = client.post("/admin/items", params={"name": "ok"}).status_code\n'
        "    counted = client.get"
    ).replace("[created.status_code,", "[admin, created.status_code,"))
    assert result == [200, 200, 200, ["boom"] * 3, {"n": 3}, ["ink", "ok", "pen"]]


@pytest.mark.parametrize("escape", [
    "        bus.uow = uow\n",  # stored on something every request shares
    "        uow = SqlAlchemyUnitOfWork()\n",  # bound again
    "        other = uow\n",  # another name for it
    "        kept = [uow]\n",  # put in a list
])
def test_near_miss_a_local_unit_of_work_used_otherwise_stays_blocked(cli, service, escape):
    local = LOCAL.replace('        return {"id": ref}', escape + '        return {"id": ref}')
    head = ROUTES[0].replace("get_uow", "bus, get_uow")
    root = service({SUBSYSTEM: routes(head, ROUTES[1], local, ROUTES[3]), "uow.py": UOW + BUS})
    document = apply(cli, root)
    found = handler(document, "create_inline")
    assert found["action"] == "blocked", found
    reason = " ".join(found["reasons"])
    assert "this route reaches it otherwise (it builds it into `uow` (api/items.py:22) and uses that name " \
        "otherwise than handing it to one call" in reason, reason
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")


ASYNC_ENTRY = UOW.replace("    def __enter__(self):", "    async def __aenter__(self):").replace(
    "    def __exit__(self, *args):", "    async def __aexit__(self, *args):"
).replace(
    "    with uow:\n", "    async with uow:\n"
).replace("def add_item(name, uow) -> int:", "async def add_item(name, uow) -> int:")
ASYNC_ROUTE = """
    @router.post("/items")
    async def create_item(name: str, uow: SqlAlchemyUnitOfWork = Depends(get_uow)):
        return {"id": await add_item(name, uow)}
    """


def test_an_async_unit_of_work_around_a_sync_session_is_not_told_to_stay_for_phase_one(cli, service):
    # `async def __aenter__` opening a synchronous Session: the route must await it, so it stays
    # `async def` (phase one leaves it) and blocks the event loop; the advice is to write the
    # shape that moves, or move it by hand, never a plain `def` route "phase one converts".
    root = service({SUBSYSTEM: routes(ROUTES[0], ASYNC_ROUTE, ROUTES[3]), "uow.py": ASYNC_ENTRY})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    reason = " ".join(found["reasons"])
    assert "phase one converts" not in reason and "is neither" not in reason, reason
    assert "`SqlAlchemyUnitOfWork` opens it in `__aenter__`, an asynchronous context manager around a " \
        "synchronous Session" in reason, reason
    assert "a route entering it with `async with` stays `async def`, and its Session calls block the event " \
        "loop: write `SqlAlchemyUnitOfWork` in that shape (`def __enter__`/`__exit__`" in reason, reason
    assert handler(document, "count_items")["action"] == "migrate"


def test_near_miss_a_sync_unit_of_work_of_another_shape_keeps_the_threadpool_advice(cli, service):
    # Opened in `__enter__` from the sessionmaker named directly: a plain `def` route does run it
    # in the threadpool, as the advice says.
    direct = UOW.replace("self.session = self.session_factory()", "self.session = database_sessionmaker()")
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": direct})
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked", found
    reason = " ".join(found["reasons"])
    assert "`SqlAlchemyUnitOfWork` is neither; keep the route as it is (a plain `def` route runs it in the " \
        "threadpool: phase one converts" in reason, reason
