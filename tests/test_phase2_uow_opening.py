"""A unit of work opening its own Session (the "Cosmic Python" shape) blocks its routes.

`__enter__` opens `self.session = self.session_factory()` and builds a repository on it,
`__exit__` rolls back and closes, a service enters it (`with uow:`) and commits through it.
Phase two writes no asynchronous unit of work: each route reaching it, by a dependency or
built inline, is blocked with one reason naming the class and every place its Session is
used (the repository's methods too), and the unchanged code still writes and rolls back.
"""

from __future__ import annotations

import test_phase2_soundness
from test_phase2_rules import apply, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve

service = test_phase2_soundness.service

UOW = """
from sqlalchemy import select

from db.engine import database_sessionmaker
from models import Item


class ItemRepository:
    def __init__(self, session):
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


def test_a_unit_of_work_opening_its_own_session_blocks_with_one_reason_and_still_rolls_back(cli, service):
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW})
    document = apply(cli, root)
    for name in ("create_item", "create_inline"):
        found = handler(document, name)
        assert (found["action"], found["codes"]) == ("blocked", ["AM241"]), found
        (reason,) = found["reasons"]
        assert "opens itself into `self.session` of `SqlAlchemyUnitOfWork` (uow.py:18)" in reason, reason
        assert "writes no asynchronous unit of work" in reason, reason
        assert "have `SqlAlchemyUnitOfWork` take the request's Session instead" in reason, reason
        # the repository's `get` (line 15) is a use of the same Session, not a second reason
        assert reason.endswith("; the same at uow.py:15, uow.py:29, uow.py:35"), reason
    assert handler(document, "count_items")["action"] == "migrate"
    result = serve(root, "sqlite", """
        created = client.post("/items", params={"name": "pen"})
        inline = client.post("/inline", params={"name": "ink"})
        try:
            client.post("/items", params={"name": "boom"})
            failed = None
        except ValueError as error:
            failed = str(error)
        counted = client.get("/count")
        with Sync() as s:
            stored = sorted(i.name for i in s.scalars(select(Item)))
        print(json.dumps([created.status_code, inline.status_code, failed, counted.json(), stored]))
    """)
    assert result == [200, 200, "boom", {"n": 2}, ["ink", "pen"]]


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
