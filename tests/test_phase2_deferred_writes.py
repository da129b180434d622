"""Phase two and a write of a deferred column: `item.note = text` on an object loaded without
the column records the new value and loads nothing, so phase two adds no `undefer` to the query
that loads it (every route sharing that query would otherwise load the large column it defers).
An augmented assignment (`item.note += text`) reads the column first: its query gets the
`undefer`. Both migrated routes are RUN, and the rows hold what each wrote."""

from __future__ import annotations

import pytest
from test_phase2_dependency_deferred import DEFERRED_MODELS
from test_phase2_rules import apply, dedent, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTES = """
def fetch_item(db: Session, item_id: int) -> Item:
    return db.get(Item, item_id)


def load_item(db: Session, item_id: int) -> Item:
    return db.get(Item, item_id)


@router.put("/items/{item_id}/note")
def set_note(item_id: int, note: str, db: session_dependency):
    item = fetch_item(db, item_id)
    item.note = note
    db.commit()
    return {"name": item.name}


@router.put("/items/{item_id}/note/more")
def add_to_note(item_id: int, more: str, db: session_dependency):
    item = load_item(db, item_id)
    item.note += more
    db.commit()
    return {"name": item.name}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_written_deferred_column_gets_no_undefer_and_an_augmented_one_does(cli, service, kind):
    root = service({"models.py": dedent(DEFERRED_MODELS), SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    assert handler(document, "set_note")["action"] == "migrate"
    assert handler(document, "add_to_note")["action"] == "migrate"
    assert "undefer" not in function(root, SUBSYSTEM, "fetch_item")
    assert "undefer(Item.note)" in function(root, SUBSYSTEM, "load_item")
    result = serve(root, kind, """
        with Sync() as s:
            s.add_all([Item(id=1, name="pen", note="old", owner_id=1), Item(id=2, name="ink", note="old", owner_id=1)])
            s.commit()
        answers = [
            client.put("/items/1/note", params={"note": "new"}).json(),
            client.put("/items/2/note/more", params={"more": " and more"}).json(),
        ]
        with Sync() as s:
            notes = [s.get(Item, 1).note, s.get(Item, 2).note]
        print(json.dumps({"answers": answers, "notes": notes}))
    """)
    assert result == {"answers": [{"name": "pen"}, {"name": "ink"}], "notes": ["new", "old and more"]}
