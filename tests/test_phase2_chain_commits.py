"""Phase two and a commit a route makes on a Session reached through attributes, RUN on three databases.

`repo.db.commit()` on a repository a dependency built or the route built from its own Session,
`uow.session.commit()` through a unit of work: the route itself commits the Session an object
it holds keeps. Phase two awaited the commit but did not see it as one (the facts give such a
call no receiver): the migrated route returned its object with the column the database computes
on UPDATE still expired, and serialising it raised MissingGreenlet. It now refreshes the object
after the commit, as after `db.commit()`. Each route's answer and the row are read on SQLite,
PostgreSQL and MariaDB, before and after the migration.
"""

from __future__ import annotations

import pytest
from test_phase2_held_stale_reads import EXPIRING
from test_phase2_holder_commits import GENERATED, HEADER, HOLDERS
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTES = """
from datetime import datetime
from typing import Optional

from pydantic import BaseModel, ConfigDict

from holders import ItemRepo, UnitOfWork, get_repo, get_uow


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    touched: Optional[datetime]


@router.put("/items/{item_id}/held", response_model=ItemOut)
def rename_held(item_id: int, name: str, repo: ItemRepo = Depends(get_repo)):
    item = repo.get(item_id)
    item.name = name
    repo.db.commit()
    return item


@router.put("/items/{item_id}/built", response_model=ItemOut)
def rename_built(item_id: int, name: str, db: Session = Depends(get_db_session)):
    repo = ItemRepo(db)
    item = repo.get(item_id)
    item.name = name
    repo.db.commit()
    return item


@router.put("/items/{item_id}/unit", response_model=ItemOut)
def rename_unit(item_id: int, name: str, uow: UnitOfWork = Depends(get_uow)):
    item = uow.items.get(item_id)
    item.name = name
    uow.session.commit()
    return item
"""
RUN = """
with Sync() as s:
    s.add(Item(id=1, name="pen", owner_id=1))
    s.commit()
answers = []
for path, name in (("held", "ink"), ("built", "nib"), ("unit", "cap")):
    response = client.put(f"/items/1/{path}", params={"name": name})
    answers.append([response.status_code, response.json()["name"], response.json()["touched"] is not None])
with Sync() as s:
    item = s.get(Item, 1)
    stored = [item.name, item.touched is not None]
print(json.dumps([answers, stored]))
"""
EXPECTED = [[[200, "ink", True], [200, "nib", True], [200, "cap", True]], ["cap", True]]


@pytest.mark.parametrize("kind", KINDS)
def test_a_commit_through_an_attribute_chain_is_refreshed_after_and_the_response_serialises(cli, service, kind):
    root = service({
        "db/engine.py": EXPIRING, "models.py": HEADER + GENERATED, "holders.py": HOLDERS,
        SUBSYSTEM: routes(ROUTES),
    })
    assert serve(root, kind, RUN) == EXPECTED
    document = apply(cli, root)
    for name in ("rename_held", "rename_built", "rename_unit"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)["reasons"]
    text = read(root, SUBSYSTEM)
    # refreshed on the Session of the holder that loaded it, as after a holder's commit
    for committed, loaded in (("repo.db", "repo.db"), ("repo.db", "repo.db"), ("uow.session", "uow.items.db")):
        refresh = f"    await {committed}.commit()\n    if item is not None:\n        await {loaded}.refresh(item)\n"
        assert refresh in text, text
        text = text.split(refresh, 1)[1]
    assert serve(root, kind, RUN) == EXPECTED
