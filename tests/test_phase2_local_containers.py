"""Phase two on a repository reached through a local container or a held bound method.

`repos = {"items": ItemRepo(db)}` then `repos["items"].add(...)`: the call graph had no edge for
the item's method, so phase two twinned the repository (`ItemRepoAsync(db)`) and left the call
without `await`: the row was never written. `fetch = partial(ItemRepo(db).count)` then `fetch()`
was migrated the same way. Now the item's method is followed and awaited; a call through what
holds a method is blocked, naming it.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

REPOS = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Item


class ItemRepo:
    def __init__(self, db: Session):
        self.db = db

    def add(self, name: str) -> Item:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item

    def count(self) -> int:
        return self.db.scalar(select(func.count(Item.id)))
"""
STORE = """
@router.post("/items")
async def store(name: str, db: session_dependency):
    repos = {"items": ItemRepo(db)}
    item = repos["items"].add(name)
    return {"id": item.id}
"""
COUNT = """
@router.get("/count")
async def count(db: session_dependency):
    fetch = functools.partial(ItemRepo(db).count)
    return {"n": fetch()}
"""
IMPORTS = "import functools\n\nfrom repos import ItemRepo\n"


@pytest.mark.parametrize("kind", KINDS)
def test_a_repository_method_called_on_an_item_of_a_local_dict_is_awaited_and_writes(cli, service, kind):
    root = service({"repos.py": REPOS, SUBSYSTEM: IMPORTS + routes(STORE)})
    document = apply(cli, root)
    assert handler(document, "store")["action"] == "migrate", handler(document, "store")
    assert 'await repos["items"].add(name)' in (root / SUBSYSTEM).read_text(), (root / SUBSYSTEM).read_text()
    result = serve(root, kind, """
        response = client.post("/items", params={"name": "pen"})
        with Sync() as s:
            names = s.scalars(select(Item.name)).all()
        print(json.dumps({"status": response.status_code, "names": names}))
    """)
    assert result == {"status": 200, "names": ["pen"]}, result


def test_a_partial_of_a_method_of_a_repository_built_in_place_blocks(cli, service):
    root = service({"repos.py": REPOS, SUBSYSTEM: IMPORTS + routes(COUNT)})
    before = (root / SUBSYSTEM).read_text()
    found = handler(apply(cli, root), "count")
    assert found["action"] == "blocked", found
    assert "`fetch()` runs ItemRepo.count through what holds it" in found["reasons"][0], found
    assert (root / SUBSYSTEM).read_text() == before
