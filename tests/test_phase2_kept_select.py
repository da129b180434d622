"""What AM213 advises for a legacy Query kept in a variable and extended later: the same query
kept as a `select()` on the synchronous Session, which phase two then awaits where it runs.
Migrated and RUN, as in test_phase2_soundness."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

KEPT_QUERY = """
@router.get("/items")
def list_items(db: session_dependency, owner_id: int | None = None):
    q = db.query(Item)
    if owner_id is not None:
        q = q.filter(Item.owner_id == owner_id)
    return {"total": q.count(), "names": [i.name for i in q.order_by(Item.name).limit(5).all()]}
"""
KEPT_SELECT = """
@router.get("/items")
def list_items(db: session_dependency, owner_id: int | None = None):
    q = select(Item)
    if owner_id is not None:
        q = q.where(Item.owner_id == owner_id)
    total = db.scalar(select(func.count()).select_from(q.subquery()))
    return {"total": total, "names": [i.name for i in db.scalars(q.order_by(Item.name).limit(5)).all()]}
"""
SCRIPT = """
with Sync() as s:
    s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=2), Item(name="ink", owner_id=1)])
    s.commit()
print(json.dumps([client.get("/items").json(), client.get("/items", params={"owner_id": 1}).json()]))
"""
EXPECTED = [{"total": 3, "names": ["cup", "ink", "pen"]}, {"total": 2, "names": ["ink", "pen"]}]


def test_a_kept_query_blocks_with_the_select_to_keep_instead(cli, service):
    root = service({SUBSYSTEM: routes(KEPT_QUERY)})
    found = handler(apply(cli, root), "list_items")
    assert (found["action"], found["codes"]) == ("blocked", ["AM213"]), found
    assert "build a `select()` instead (here `select(Item)`" in found["reasons"][0]
    assert serve(root, "sqlite", SCRIPT) == EXPECTED


@pytest.mark.parametrize("kind", KINDS)
def test_the_select_kept_instead_migrates_and_answers_the_same(cli, service, kind):
    root = service({SUBSYSTEM: routes(KEPT_SELECT)})
    found = handler(apply(cli, root), "list_items")
    assert found["action"] == "migrate", found
    assert serve(root, kind, SCRIPT) == EXPECTED
