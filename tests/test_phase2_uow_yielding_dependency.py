"""A dependency that builds a unit of work holding the Session and yields it (`with UnitOfWork() as
uow: yield uow`) gets no async twin: the routes it fills are blocked, naming it, and their code is
left as it is.

Another route entering the unit of work itself gives the class its parallel async copy. Before,
phase two then rewrote the first route's annotation and calls to that copy (`uow:
Annotated[UnitOfWorkAsync, Depends(get_uow)]`, `await ItemServiceAsync(uow).add(...)`) while
`get_uow` still yielded the synchronous UnitOfWork: the route ran its SELECT on the event loop and
raised TypeError awaiting a plain result, and the self-check let it through. The tests serve the
result and read the rows back; the self-check refuses the shape when the plan forgets it.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, function, handler, read
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

    def names(self):
        return sorted(self.session.scalars(select(Item.name)))


class UnitOfWork:
    def __init__(self, session_factory=database_sessionmaker):
        self.session_factory = session_factory

    def __enter__(self):
        self.session = self.session_factory()
        self.items = ItemRepository(self.session)
        return self

    def __exit__(self, *args):
        self.session.rollback()
        self.session.close()

    def commit(self):
        self.session.commit()


class ItemService:
    def __init__(self, uow: UnitOfWork):
        self.uow = uow

    def add(self, name):
        self.uow.items.add(Item(name=name, owner_id=1))
        self.uow.commit()
        return self.uow.items.names()


{provider}
"""
YIELDING = """
def get_uow():
    with UnitOfWork() as uow:
        yield uow
"""
ROUTES = (
    """
    from typing import Annotated

    from uow import ItemService, UnitOfWork, get_uow
    """,
    """
    @router.post("/items")
    def create_item(name: str, uow: Annotated[UnitOfWork, Depends(get_uow)]):
        return {"names": ItemService(uow).add(name)}
    """,
    """
    @router.post("/raw")
    def create_raw(name: str):
        uow = UnitOfWork()
        with uow:
            uow.items.add(Item(name=name, owner_id=1))
            uow.commit()
            return {"names": uow.items.names()}
    """,
)
RUN = """
    created = client.post("/items", params={"name": "pen"})
    raw = client.post("/raw", params={"name": "ink"})
    with Sync() as s:
        stored = sorted(i.name for i in s.scalars(select(Item)))
    print(json.dumps([created.status_code, created.json(), raw.status_code, raw.json(), stored]))
"""
RESULT = [200, {"names": ["pen"]}, 200, {"names": ["ink", "pen"]}, ["ink", "pen"]]


@pytest.mark.parametrize("kind", KINDS)
def test_a_route_filled_by_a_dependency_yielding_a_unit_of_work_is_blocked_naming_it(cli, service, kind):
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW.replace("{provider}", YIELDING)})
    before = function(root, SUBSYSTEM, "create_item")
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert (found["action"], found["codes"]) == ("blocked", ["AM239"]), found
    (reason,) = found["reasons"]
    assert "`uow` of api.items.create_item is filled by `get_uow` (uow.py:" in reason, reason
    assert "which yields a UnitOfWork, a class holding the Session, and gets no async twin" in reason, reason
    assert function(root, SUBSYSTEM, "create_item") == before
    assert "def get_uow():\n    with UnitOfWork() as uow:\n        yield uow\n" in read(root, "uow.py")
    # the route entering the unit of work itself moves, on the parallel class
    assert handler(document, "create_raw")["action"] == "migrate", handler(document, "create_raw")
    assert "class UnitOfWorkAsync:" in read(root, "uow.py")
    assert serve(root, kind, RUN) == RESULT


def test_the_self_check_refuses_a_parameter_its_dependency_fills_with_another_class(cli, service, monkeypatch):
    # The plan forgets that `get_uow` keeps yielding the synchronous UnitOfWork: the rewrite names
    # UnitOfWorkAsync in the route's annotation. The self-check reads the annotation against what
    # the dependency gives; the route stays and still writes.
    from async_migrate.codemods.phase2 import unfollowed_holders

    monkeypatch.setattr(unfollowed_holders, "_unmoved_provider", lambda *args: [], raising=False)
    root = service({SUBSYSTEM: routes(*ROUTES), "uow.py": UOW.replace("{provider}", YIELDING)})
    before = function(root, SUBSYSTEM, "create_item")
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    assert any(
        f"self-check: create_item: `uow` is annotated UnitOfWorkAsync, but its dependency `get_uow` (uow.py:{line}) "
        "yields a UnitOfWork: FastAPI fills the parameter from its dependency" in r
        for r in found["reasons"]
        for line in [UOW.replace("{provider}", YIELDING).lstrip().splitlines().index("def get_uow():") + 1]
    ), found["reasons"]
    assert function(root, SUBSYSTEM, "create_item") == before
    assert serve(root, "sqlite", RUN) == RESULT


ALIASED = (
    ROUTES[0].replace("from uow import ItemService, UnitOfWork, get_uow", "from uow import ItemService, UoW, UnitOfWork"),
    ROUTES[1].replace("uow: Annotated[UnitOfWork, Depends(get_uow)]", "uow: UoW"),
    ROUTES[2],
)


def test_the_self_check_refuses_handing_the_parameter_to_a_class_declared_for_another(cli, service, monkeypatch):
    # Through an alias the annotation keeps naming the synchronous class; the rewrite hands the
    # parameter to ItemServiceAsync, whose `__init__` takes a UnitOfWorkAsync.
    from async_migrate.codemods.phase2 import unfollowed_holders

    monkeypatch.setattr(unfollowed_holders, "_unmoved_provider", lambda *args: [], raising=False)
    alias = YIELDING + "\n\nUoW = Annotated[UnitOfWork, Depends(get_uow)]\n"
    text = "from typing import Annotated\n\nfrom fastapi import Depends\n" + UOW.replace("{provider}", alias)
    root = service({SUBSYSTEM: routes(*ALIASED), "uow.py": text})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    assert any(
        "self-check: create_item: `uow` is handed to `ItemService" in r
        and "whose parameter `uow` is a UnitOfWorkAsync, but its dependency `get_uow` (uow.py:" in r
        for r in found["reasons"]
    ), found["reasons"]
    assert serve(root, "sqlite", RUN) == RESULT


RETURNING = """
def get_uow():
    return UnitOfWork()
"""


def test_near_miss_a_dependency_returning_the_unit_of_work_gets_its_twin(cli, service):
    # `return UnitOfWork()`, entered where it is used (`with uow:`, then `async with uow:`): the route moves.
    entering = ROUTES[1].replace(
        'return {"names": ItemService(uow).add(name)}', 'with uow:\n            return {"names": ItemService(uow).add(name)}'
    )
    root = service({SUBSYSTEM: routes(ROUTES[0], entering, ROUTES[2]), "uow.py": UOW.replace("{provider}", RETURNING)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert "async with uow:" in read(root, SUBSYSTEM), read(root, SUBSYSTEM)
    assert serve(root, "sqlite", RUN) == RESULT
