"""Phase two through a generic service base with a classmethod factory (`from_session`),
proved by running.

`UserService.from_session(db)` runs `return cls(db)` in `BaseService[ModelT]`: called on the
subclass it builds a `UserService`, whose own methods (`by_name`, `add`) do Session work too.
Read as the base's instance, those methods went unseen: the migrated route would call them
without `await`. Read as the subclass's, the family moves as parallel async classes (a job
keeps using the synchronous ones), the routes build theirs through
`ItemServiceAsync.from_session(db)`, and await every method that does Session work; a nested
coroutine calling such a method on the service of the function around it is blocked (AM211).

As in test_phase2_soundness: migrated with `phase2 --apply`, then RUN with TestClient, and the
database read back through a separate synchronous session.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

BASE = """
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Base

ModelT = TypeVar("ModelT", bound=Base)


class BaseService(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, db: Session) -> None:
        self.db = db

    @classmethod
    def from_session(cls, db: Session):
        return cls(db)

    def count(self) -> int:
        return self.db.scalar(select(func.count()).select_from(self.model))
"""
ITEMS = """
from sqlalchemy import select

from models import Item
from services.base import BaseService


class ItemService(BaseService[Item]):
    model = Item

    def names(self) -> list[str]:
        return list(self.db.scalars(select(Item.name).order_by(Item.id)))

    def add(self, name: str) -> Item:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item
"""
JOBS = """
from sqlalchemy.orm import Session

from services.items import ItemService


def nightly(db: Session) -> int:
    return ItemService(db).count()
"""
ROUTES = """
import json

from fastapi.responses import StreamingResponse

from services.items import ItemService


@router.post("/items")
def add_item(name: str, db: session_dependency):
    item = ItemService.from_session(db).add(name)
    return {"id": item.id}


@router.get("/items")
def list_items(db: session_dependency):
    items = ItemService.from_session(db)
    return {"names": items.names(), "count": items.count()}


@router.get("/export")
async def export_items(db: session_dependency):
    items = ItemService.from_session(db)

    async def lines():
        for name in items.names():
            yield json.dumps(name) + "\\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")
"""
RUN = """
    created = [client.post("/items", params={"name": n}).json() for n in ("a", "b")]
    listed = client.get("/items").json()
    with Sync() as s:
        rows = list(s.scalars(select(Item.name).order_by(Item.id)))
    print(json.dumps({"created": created, "listed": listed, "rows": rows}))
"""
FACTORY_KEPT = """
class BaseServiceAsync(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    @classmethod
    def from_session(cls, db: AsyncSession):
        return cls(db)
"""
WRITTEN = {"created": [{"id": 1}, {"id": 2}], "listed": {"names": ["a", "b"], "count": 2}, "rows": ["a", "b"]}


@pytest.mark.parametrize("kind", KINDS)
def test_routes_built_through_a_classmethod_factory_migrate_and_write(cli, service, kind):
    root = service({
        "services/__init__.py": "",
        "services/base.py": BASE,
        "services/items.py": ITEMS,
        "jobs.py": JOBS,
        SUBSYSTEM: routes(ROUTES),
    })
    assert serve(root, kind, RUN) == WRITTEN
    document = apply(cli, root)
    for route in ("add_item", "list_items"):
        found = handler(document, route)
        assert found["action"] == "migrate", (route, found["reasons"])
    export = handler(document, "export_items")
    assert export["action"] == "blocked" and "AM211" in export["codes"], export
    text = read(root, SUBSYSTEM)
    # The factory only builds: it stays a plain `def`, called without `await` as a construction is.
    assert "item = await ItemServiceAsync.from_session(db).add(name)" in text, text
    assert "items = ItemServiceAsync.from_session(db)\n" in text, text
    assert FACTORY_KEPT in read(root, "services/base.py")
    assert "class ItemServiceAsync(BaseServiceAsync[Item]):" in read(root, "services/items.py")
    assert "return ItemService(db).count()" in read(root, "jobs.py")
    assert serve(root, kind, RUN) == WRITTEN



@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_factory_doing_session_work_becomes_a_coroutine_awaited_where_called(cli, service, kind):
    working = BASE.replace("        return cls(db)", "        db.execute(select(1))\n        return cls(db)")
    root = service({
        "services/__init__.py": "",
        "services/base.py": working,
        "services/items.py": ITEMS,
        "jobs.py": JOBS,
        SUBSYSTEM: routes(ROUTES),
    })
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")["reasons"]
    text = read(root, SUBSYSTEM)
    assert "item = await (await ItemServiceAsync.from_session(db)).add(name)" in text, text
    assert "items = await ItemServiceAsync.from_session(db)\n" in text, text
    assert "    @classmethod\n    async def from_session(cls, db: AsyncSession):\n" in read(root, "services/base.py")
    assert serve(root, kind, RUN) == WRITTEN
