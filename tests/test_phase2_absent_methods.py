"""Session methods AsyncSession lacks where `run_sync` would not do the same
(`enable_relationship_loading`, `prepare`): phase two blocks the route with AM214 rather than
leave a call that raises AttributeError on the AsyncSession. The blocked route keeps working on
the synchronous stack, and its neighbour is migrated and writes its row; both RUN, as in
test_phase2_soundness."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTES = """
@router.post("/draft")
def draft(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.enable_relationship_loading(item)
    return {"owner": item.owner_id}


@router.post("/items")
def create_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=2))
    db.commit()
    return {"ok": True}
"""
SCRIPT = """
draft = client.post("/draft", params={"name": "pen"})
created = client.post("/items", params={"name": "cup"})
with Sync() as s:
    rows = [(i.name, i.owner_id) for i in s.scalars(select(Item)).all()]
print(json.dumps({"draft": [draft.status_code, draft.json()], "created": created.status_code, "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_enable_relationship_loading_blocks_its_route_and_the_rest_runs(cli, service, kind):
    root = service({SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    blocked = handler(document, "draft")
    assert blocked["action"] == "blocked" and blocked["codes"] == ["AM214"], blocked
    assert "enable_relationship_loading()` does not exist on AsyncSession" in blocked["reasons"][0]
    assert function(root, SUBSYSTEM, "draft").startswith("def draft(name: str, db: session_dependency):")
    assert handler(document, "create_item")["action"] == "migrate"
    assert "    await db.commit()" in function(root, SUBSYSTEM, "create_item")
    result = serve(root, kind, SCRIPT)
    assert result == {"draft": [200, {"owner": 1}], "created": 200, "rows": [["cup", 2]]}
