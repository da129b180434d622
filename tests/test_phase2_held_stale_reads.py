"""Phase two and a stale read in one method of a service holding the Session.

`ItemService.shout` returns an object after committing on `self.db`, which the synchronous
sessionmaker reloaded (expire_on_commit) and the async one does not: the read would be stale
(AM259). That blocked every route building the service, those that never call `shout` too.
Now such a method is left out of the service's parallel async class, as a method with any
other blocker of its own is: the other routes migrate onto the copy, `shout`'s route stays,
and its fix is written for the code as it stands (`self.db.refresh(item)`, not an `await` the
synchronous code cannot hold). Followed as written, that fix lets the route migrate too. Each
step is RUN on SQLite, PostgreSQL and MariaDB: the answers, and the name the UPDATE wrote.
"""

from __future__ import annotations

import re

import pytest
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import ENGINE, KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

# The synchronous stack expires objects on commit (the default), the generated async one does not.
EXPIRING = ENGINE.replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)")
SERVICE = """
from fastapi import Depends, HTTPException
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item


class ItemService:
    def __init__(self, db: Session = Depends(get_db_session)):
        self.db = db

    def get(self, item_id: int) -> Item:
        item = self.db.get(Item, item_id)
        if item is None:
            raise HTTPException(404)
        return item

    def names(self) -> list[str]:
        return list(self.db.scalars(select(Item.name).order_by(Item.id)))

    def shout(self, item_id: int) -> Item:
        item = self.get(item_id)
        self.db.execute(update(Item).where(Item.id == item_id).values(name=Item.name + "!"))
        self.db.commit()
        return item
"""
ROUTES = """
from services import ItemService


@router.get("/items")
def names(service: ItemService = Depends(ItemService)):
    return service.names()


@router.get("/items/{item_id}")
def read_item(item_id: int, service: ItemService = Depends(ItemService)):
    return {"name": service.get(item_id).name}


@router.post("/items/{item_id}/shout")
def shout(item_id: int, service: ItemService = Depends(ItemService)):
    return {"name": service.shout(item_id).name}
"""
RUN = """
with Sync() as s:
    s.add_all([Item(name="pen", owner_id=1), Item(name="ink", owner_id=2)])
    s.commit()
    first = s.scalar(select(Item.id).where(Item.name == "pen"))
answers = [
    client.get("/items").json(), client.get(f"/items/{first}").json(), client.get("/items/999").status_code,
    client.post(f"/items/{first}/shout").json(),
]
with Sync() as s:
    stored = list(s.scalars(select(Item.name).order_by(Item.id)))
print(json.dumps([answers, stored]))
"""
EXPECTED = [[["pen", "ink"], {"name": "pen"}, 404, {"name": "pen!"}], ["pen!", "ink"]]


def _service(service):  # type: ignore[no-untyped-def]
    return service({"db/engine.py": EXPIRING, "services.py": SERVICE, SUBSYSTEM: routes(ROUTES)})


@pytest.mark.parametrize("kind", KINDS)
def test_routes_not_calling_a_method_with_a_stale_read_migrate_without_it(cli, service, kind):
    root = _service(service)
    assert serve(root, kind, RUN) == EXPECTED
    document = apply(cli, root)
    for name in ("names", "read_item"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    found = handler(document, "shout")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found
    stale = [r for r in found["reasons"] if "`item` is returned after `self.db.commit()`" in r]
    assert stale and "fix: add `self.db.refresh(item)` after it" in stale[0], found
    assert "await self.db.refresh" not in " ".join(found["reasons"]), found
    text = read(root, "services.py")
    copy = text.split("class ItemServiceAsync")[1]
    assert "async def names" in copy and "async def get" in copy and "def shout" not in copy, text
    assert serve(root, kind, RUN) == EXPECTED


@pytest.mark.parametrize("kind", KINDS)
def test_the_stale_read_fix_followed_as_written_migrates_and_reads_what_the_update_wrote(cli, service, kind):
    root = _service(service)
    found = handler(run(cli, root), "shout")  # a dry run: nothing written
    fix = re.search(r"fix: add `([^`]+)` after it", " ".join(found["reasons"]))
    assert fix is not None, found
    path = root / "services.py"
    commit = "        self.db.commit()\n"
    path.write_text(path.read_text().replace(commit, f"{commit}        {fix.group(1)}\n"))
    assert serve(root, kind, RUN) == EXPECTED  # the fix is synchronous code that runs as it is
    document = apply(cli, root)
    for name in ("names", "read_item", "shout"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "await self.db.refresh(item)" in read(root, "services.py")
    assert serve(root, kind, RUN) == EXPECTED
