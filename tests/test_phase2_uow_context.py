"""A unit of work on the request's Session whose `with` does Session work moves as an
asynchronous context manager.

`UnitOfWork(db)` (built in the route, or by a dependency on the session dependency) whose
`__exit__` rolls back, entered by a service (`with uow:`) that commits through it: its
parallel class defines `async def __aenter__`/`__aexit__` (awaiting the rollback), the
service's `with uow:` becomes `async with uow:`, and the rollback really runs when the block
raises. Entered otherwise (`with UnitOfWork(db) as uow:`, beside another context manager, an
explicit `uow.__enter__()`), the route is blocked (AM297) naming how to write it.
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

from core.dependencies import session_dependency
from models import Item


class ItemRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, name):
        self.session.add(Item(name=name, owner_id=1))

    def names(self):
        return [item.name for item in self.session.scalars(select(Item).order_by(Item.id))]


class UnitOfWork:
    def __init__(self, session: Session):
        self.session = session
        self.items = ItemRepository(session)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.rollback()

    def commit(self):
        self.session.commit()

    def rollback(self):
        self.session.rollback()


def get_uow(db: session_dependency):
    return UnitOfWork(db)


def add_item(name, uow):
    # A failed block is rolled back by `__exit__`: the second block's commit must not save it.
    try:
        with uow:
            uow.items.add(name)
            if name == "boom":
                raise ValueError(name)
            uow.commit()
    except ValueError:
        pass
    with uow:
        uow.items.add(f"log {name}")
        uow.commit()
        return uow.items.names()
"""
ROUTES = (
    """
    from uow import UnitOfWork, add_item, get_uow
    """,
    """
    @router.post("/items")
    async def create_item(name: str, uow: UnitOfWork = Depends(get_uow)):
        return add_item(name, uow)
    """,
    """
    @router.post("/inline")
    async def create_inline(name: str, db: session_dependency):
        return add_item(name, UnitOfWork(db))
    """,
)


@pytest.mark.parametrize("kind", KINDS)
def test_a_unit_of_work_rolling_back_on_exit_moves_as_an_async_context_manager(cli, service, kind):
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW})
    document = apply(cli, root)
    for name in ("create_item", "create_inline"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = read(root, "uow.py")
    assert "    async def __aenter__(self):\n        return self\n" in text, text
    assert "    async def __aexit__(self, *args):\n        await self.rollback()\n" in text, text
    assert "        async with uow:\n            await uow.items.add(name)\n" in text, text
    result = serve(root, kind, """
        first = client.post("/items", params={"name": "pen"})
        failed = client.post("/inline", params={"name": "boom"})
        with Sync() as s:
            stored = [i.name for i in s.scalars(select(Item).order_by(Item.id))]
        print(json.dumps([first.status_code, failed.status_code, failed.json(), stored]))
    """)
    expected = ["pen", "log pen", "log boom"]
    assert result == [200, 200, expected, expected]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (
            "with UnitOfWork(db) as uow, open(__file__):\n        uow.items.add(name)\n        uow.commit()",
            "enters the `UnitOfWork` it builds in a `with` statement beside other context managers",
        ),
        (
            "uow = UnitOfWork(db)\n    with uow, open(__file__):\n        uow.items.add(name)\n        uow.commit()",
            "beside other context managers in one `with` statement",
        ),
        (
            "uow = UnitOfWork(db)\n    uow.__enter__()\n    uow.items.add(name)\n    uow.commit()",
            "calls `UnitOfWork.__enter__` other than through a `with` statement",
        ),
    ],
)
def test_a_unit_of_work_entered_other_than_by_name_alone_blocks_the_route(cli, service, body, why):
    route = (
        '@router.post("/direct")\n'
        "async def create_direct(name: str, db: session_dependency):\n"
        f"    {body}\n"
        '    return {"ok": True}\n'
    )
    root = service({SUBSYSTEM: routes(ROUTES[0], route), "uow.py": UOW})
    found = handler(apply(cli, root), "create_direct")
    assert found["action"] == "blocked", found
    assert any(why in reason for reason in found["reasons"]), found["reasons"]
    assert "async def __aexit__" not in read(root, "uow.py")


BUS = """

class MessageBus:
    def __init__(self, uow):
        self.uow = uow


bus = MessageBus(UnitOfWork(database_sessionmaker()))
"""


def test_near_miss_a_unit_of_work_a_module_level_bus_keeps_stays_blocked(cli, service):
    # One unit of work, on one Session, for every request: nothing per request to move.
    route = """
    @router.post("/bus")
    async def create_on_bus(name: str):
        return add_item(name, bus.uow)
    """
    uow = UOW.replace("from models import Item\n", "from models import Item\nfrom db.engine import database_sessionmaker\n")
    root = service({SUBSYSTEM: routes(ROUTES[0].replace("get_uow", "bus, get_uow"), route, ROUTES[2]), "uow.py": uow + BUS})
    document = apply(cli, root)
    found = handler(document, "create_on_bus")
    assert (found["action"], found["codes"]) == ("blocked", ["AM241"]), found
    assert handler(document, "create_inline")["action"] == "migrate"
    # the route reaching the shared instance keeps the synchronous class, entered with `with`
    assert "    with uow:\n        uow.items.add(f\"log {name}\")" in read(root, "uow.py")


def test_a_later_subsystem_reuses_the_async_unit_of_work_an_earlier_run_added(cli, service):
    from test_phase2_rerun import BOTH

    head, item, inline = ROUTES
    a = routes(head, item).replace('APIRouter()', 'APIRouter(prefix="/a")')
    b = routes(head, inline).replace('APIRouter()', 'APIRouter(prefix="/b")')
    root = service({"api/a.py": a, "api/b.py": b, "uow.py": UOW, "main.py": BOTH})
    apply(cli, root, subsystem="api/a.py")
    document = apply(cli, root, subsystem="api/b.py")
    assert handler(document, "create_inline")["action"] == "migrate"
    text = read(root, "uow.py")
    # the copy's `__aenter__`/`__aexit__` stand for `__enter__`/`__exit__`: none is added again
    assert (text.count("class UnitOfWorkAsync"), text.count("async def __aenter__"), text.count("async def __aexit__")) == (1, 1, 1)
    assert apply(cli, root, subsystem="api/a.py")["files_changed"] == []
    result = serve(root, "sqlite", """
        first = client.post("/a/items", params={"name": "pen"}).json()
        failed = client.post("/b/inline", params={"name": "boom"}).json()
        with Sync() as s:
            stored = [i.name for i in s.scalars(select(Item).order_by(Item.id))]
        print(json.dumps([first, failed, stored]))
    """)
    assert result == [["pen", "log pen"], ["pen", "log pen", "log boom"], ["pen", "log pen", "log boom"]]
