"""`Session.delete_all` and `Session.merge_all` (SQLAlchemy 2.1) are coroutines on AsyncSession,
as `delete` and `merge` are: phase two awaits them, or the rows stay as they were with no
error. Each route is migrated and RUN, as in test_phase2_soundness, and the rows read back."""

from __future__ import annotations

import pytest
import sqlalchemy
from sqlalchemy.orm import Session
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

pytestmark = pytest.mark.skipif(
    not hasattr(Session, "delete_all"), reason=f"SQLAlchemy {sqlalchemy.__version__} has no Session.delete_all"
)

ALL = """
@router.post("/items")
def create_items(names: list[str], db: session_dependency):
    db.add_all([Item(name=name, owner_id=1) for name in names])
    db.commit()
    return {"saved": len(names)}


@router.post("/items/rename")
def rename_all(db: session_dependency):
    items = [Item(id=item.id, name=item.name.upper(), owner_id=1) for item in db.scalars(select(Item)).all()]
    db.expunge_all()
    db.merge_all(items)
    db.commit()
    return {"renamed": len(items)}


@router.delete("/items")
def delete_items(db: session_dependency):
    items = db.scalars(select(Item).where(Item.name == "CUP")).all()
    db.delete_all(items)
    db.commit()
    return {"deleted": len(items)}
"""
SCRIPT = """
saved = client.post("/items", json=["pen", "cup"]).json()
renamed = client.post("/items/rename").json()
deleted = client.delete("/items").json()
with Sync() as s:
    rows = sorted(i.name for i in s.scalars(select(Item)).all())
print(json.dumps({"saved": saved, "renamed": renamed, "deleted": deleted, "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_delete_all_and_merge_all_are_awaited_and_write_the_rows(cli, service, kind):
    root = service({SUBSYSTEM: routes(ALL)})
    document = apply(cli, root)
    for name in ("create_items", "rename_all", "delete_items"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "    await db.merge_all(items)" in function(root, SUBSYSTEM, "rename_all")
    assert "    await db.delete_all(items)" in function(root, SUBSYSTEM, "delete_items")
    result = serve(root, kind, SCRIPT)
    assert result == {"saved": {"saved": 2}, "renamed": {"renamed": 2}, "deleted": {"deleted": 1}, "rows": ["PEN"]}
