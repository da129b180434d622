"""Phase two and a class holding the Session whose special methods do Session work
(`def __getitem__(self, key): return self.session.get(Item, key)`, `__contains__`), used
through the syntax Python turns into those calls (`repo[item_id]`, `name in repo`): the
methods cannot become `async def`, so the class's parallel async class leaves them out, and
a route using them on it failed on every request (`'ItemRepositoryAsync' object is not
subscriptable`). Such a route blocks (AM217, naming the special method), the
routes calling only the class's other methods migrate. RUN on SQLite, PostgreSQL and MariaDB:
the blocked routes answer from the synchronous class and the migrated one writes its row."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

REPOSITORY = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item


class ItemRepository:
    def __init__(self, session: Session):
        self.session = session

    def __getitem__(self, item_id: int) -> Item:
        return self.session.get(Item, item_id)

    def __contains__(self, name: str) -> bool:
        return self.session.scalar(select(Item.id).where(Item.name == name)) is not None

    def save(self, name: str) -> None:
        self.session.add(Item(name=name, owner_id=1))
        self.session.flush()

    def names(self, ids: list[int]) -> list[str]:
        return [self[i].name for i in ids]
"""
ROUTES = """
from repository import ItemRepository


@router.get("/items/{item_id}")
def read_item(item_id: int, db: session_dependency):
    repo = ItemRepository(db)
    return {"name": repo[item_id].name}


@router.get("/known/{name}")
def known(name: str, db: session_dependency):
    return {"known": name in ItemRepository(db)}


@router.get("/names")
def names(db: session_dependency):
    repo = ItemRepository(db)
    return repo.names([1])


@router.post("/items")
def create(name: str, db: session_dependency):
    repo = ItemRepository(db)
    repo.save(name)
    db.commit()
    return {"ok": True}
"""
RUN = """
answers = [client.post("/items", params={"name": "pen"}).json()]
answers += [client.get(path).json() for path in ("/items/1", "/known/pen", "/known/ink", "/names")]
with Sync() as s:
    stored = list(s.scalars(select(Item.name)))
print(json.dumps([answers, stored]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_special_method_doing_session_work_blocks_the_routes_using_it(cli, service, kind):
    root = service({"repository.py": REPOSITORY, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name, special in (("read_item", "__getitem__"), ("known", "__contains__"), ("names", "__getitem__")):
        found = handler(document, name)
        assert found["action"] == "blocked" and "AM217" in found["codes"], found
        assert any(f"ItemRepository.{special}" in reason for reason in found["reasons"]), found["reasons"]
        assert function(root, SUBSYSTEM, name).startswith("def "), name
    assert handler(document, "create")["action"] == "migrate"
    assert "await repo.save(name)" in function(root, SUBSYSTEM, "create")
    assert serve(root, kind, RUN) == [
        [{"ok": True}, {"name": "pen"}, {"known": True}, {"known": False}, ["pen"]], ["pen"],
    ]


UNIT_OF_WORK = """
from sqlalchemy.orm import Session


class UnitOfWork:
    def __init__(self, session: Session):
        self.session = session

    async def __aenter__(self) -> "UnitOfWork":
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        # a synchronous commit inside an asynchronous context manager
        if exc_type is None:
            self.session.commit()
"""
ENTERED = """
from models import Item
from unit_of_work import UnitOfWork


@router.post("/items")
async def create(name: str, db: session_dependency):
    async with UnitOfWork(db):
        db.add(Item(name=name, owner_id=1))
    return {"ok": True}
"""


def test_an_awaited_special_method_doing_session_work_blocks_saying_what_awaits_it(cli, service):
    # The reason said Python calls `__aexit__` "without `await`", where `async with` awaits it
    # (scan and check say so): untrue, and no help in finding the fix.
    root = service({"unit_of_work.py": UNIT_OF_WORK, SUBSYSTEM: routes(ENTERED)})
    found = handler(apply(cli, root), "create")
    assert found["action"] == "blocked", found
    reason = next(r for r in found["reasons"] if "UnitOfWork.__aexit__" in r)
    assert "which `async with` awaits" in reason, reason
    assert "without `await`" not in reason, reason
