"""Phase two runs the bulk methods AsyncSession lacks (`bulk_save_objects`,
`bulk_insert_mappings`, `bulk_update_mappings`) on the synchronous Session behind it:
`await session.run_sync(lambda sync_session: sync_session.bulk_save_objects(rows))`. Each route
is migrated and RUN, as in test_phase2_soundness, and the rows are read back."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

BULK = """
@router.post("/items")
def create_items(names: list[str], db: session_dependency):
    db.bulk_save_objects([Item(name=name, owner_id=1) for name in names])
    db.commit()
    return {"saved": len(names)}


@router.post("/items/mappings")
def insert_mappings(names: list[str], db: session_dependency, sync_session: int = 2):
    # a parameter named like the lambda's own: the lambda takes another name
    db.bulk_insert_mappings(Item, [{"name": name, "owner_id": sync_session} for name in names])
    db.commit()
    return {"saved": len(names)}


@router.post("/items/rename")
def rename_all(db: session_dependency):
    rows = [{"id": item.id, "name": item.name.upper()} for item in db.scalars(select(Item)).all()]
    db.bulk_update_mappings(Item, rows)
    db.commit()
    return {"renamed": len(rows)}
"""
SCRIPT = """
saved = client.post("/items", json=["pen", "cup"]).json()
mapped = client.post("/items/mappings", json=["ink"]).json()
renamed = client.post("/items/rename").json()
with Sync() as s:
    rows = sorted((i.name, i.owner_id) for i in s.scalars(select(Item)).all())
print(json.dumps({"saved": saved, "mapped": mapped, "renamed": renamed, "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_bulk_methods_run_through_run_sync_and_write_the_rows(cli, service, kind):
    root = service({SUBSYSTEM: routes(BULK)})
    document = apply(cli, root)
    for name in ("create_items", "insert_mappings", "rename_all"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "    await db.run_sync(lambda sync_session: sync_session.bulk_save_objects(" in (
        function(root, SUBSYSTEM, "create_items")
    )
    assert "    await db.run_sync(lambda sync_session_2: sync_session_2.bulk_insert_mappings(Item, " in (
        function(root, SUBSYSTEM, "insert_mappings")
    )
    result = serve(root, kind, SCRIPT)
    assert result == {
        "saved": {"saved": 2}, "mapped": {"saved": 1}, "renamed": {"renamed": 3},
        "rows": [["CUP", 1], ["INK", 2], ["PEN", 1]],
    }
