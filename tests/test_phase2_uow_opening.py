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
        # `__exit__` rolls back: handing the unit of work the route's Session is no way out (AM297)
        assert "have the route hand its Session" not in reason, reason
        assert "`SqlAlchemyUnitOfWork.__exit__` does Session work" in reason, reason
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


QUIET_EXIT = UOW.replace(
    """    def __exit__(self, *args):
        self.rollback()
        self.session.close()
""",
    """    def __exit__(self, *args):
        pass
""",
)


def test_a_unit_of_work_leaving_nothing_to_its_exit_keeps_the_advice_to_hand_it_the_session(cli, service):
    # Near miss: a `with` statement runs no Session work of its own, so handing the unit of work
    # the route's Session (a holder phase two moves) is a way out.
    root = service({SUBSYSTEM: routes(*ROUTES[:2]), "uow.py": QUIET_EXIT})
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked", found
    reason = " ".join(found["reasons"])
    assert "or have the route hand its Session to what it builds" in reason, reason
    assert "a `with` statement cannot await" not in reason, reason
