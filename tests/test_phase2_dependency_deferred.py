"""Phase two: a deferred column read on the object a dependency loaded. The dependency's async
twin gets the `undefer` (imported where the module lacks it), and the migrated route is RUN:
it answers with the column's value instead of raising MissingGreenlet."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, function, handler
from test_phase2_soundness import KINDS, MODELS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

DEFERRED_MODELS = MODELS.replace(
    '    name: Mapped[str] = mapped_column(String(100))\n    owner_id',
    '    name: Mapped[str] = mapped_column(String(100))\n'
    '    note: Mapped[str] = mapped_column(String(100), deferred=True, default="")\n    owner_id',
)


@pytest.mark.parametrize("kind", KINDS[:2])
def test_a_deferred_column_of_a_dependency_object_is_undeferred_in_the_twin_and_answers(cli, service, kind):
    assert DEFERRED_MODELS != MODELS
    root = service({
        "models.py": dedent(DEFERRED_MODELS),
        SUBSYSTEM: routes(
            """
            def current_item(db: session_dependency) -> Item:
                return db.get(Item, 1)


            @router.get("/items/1/note")
            def item_note(db: session_dependency, item: Item = Depends(current_item)):
                total = db.scalar(select(func.count()).select_from(Item))
                return {"note": item.note, "total": total}
            """,
        ),
    })
    document = apply(cli, root)
    assert handler(document, "item_note")["action"] == "migrate"
    assert "undefer(Item.note)" in function(root, SUBSYSTEM, "current_item_async")
    result = serve(root, kind, """
        with Sync() as s:
            s.add(Item(id=1, name="pen", note="blue ink", owner_id=1))
            s.commit()
        print(json.dumps(client.get("/items/1/note").json()))
    """)
    assert result == {"note": "blue ink", "total": 1}
