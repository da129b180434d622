"""Phase two: `session.get(M, pk, with_for_update=...)` on an object whose relationship the
route reads. The get becomes a `select` carrying the eager load (get() ignores loader options
for an object the Session holds), and the lock carries over as `.with_for_update(...)`; the
migrated route is RUN with TestClient and answers with the related row's data."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, function, handler
from test_phase2_soundness import KINDS, MODELS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

RELATED_MODELS = MODELS.replace(
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship",
) + "    owner: Mapped[User] = relationship()\n"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("written", "locked"), [
    ("with_for_update=True", ".with_for_update()"),
    ('with_for_update={"nowait": True}', '.with_for_update(**{"nowait": True})'),
])
def test_a_locking_get_whose_relationship_is_read_becomes_a_locking_select_and_answers(
    cli, service, kind, written, locked
):
    assert RELATED_MODELS != MODELS
    root = service({
        "models.py": dedent(RELATED_MODELS),
        SUBSYSTEM: routes(
            f"""
            @router.post("/items/{{item_id}}/claim")
            def claim(item_id: int, name: str, db: session_dependency):
                item = db.get(Item, item_id, {written})
                if item is None:
                    return {{"missing": True}}
                item.name = name
                owner = item.owner.name
                db.commit()
                return {{"name": item.name, "owner": owner}}
            """,
        ),
    })
    document = apply(cli, root)
    found = handler(document, "claim")
    assert found["action"] == "migrate", found
    migrated = function(root, SUBSYSTEM, "claim")
    assert "select(Item).where(Item.id == item_id)" in migrated and locked in migrated, migrated
    result = serve(root, kind, """
        with Sync() as s:
            s.add(Item(id=1, name="pen", owner_id=1))
            s.commit()
        claimed = client.post("/items/1/claim", params={"name": "cup"}).json()
        missing = client.post("/items/9/claim", params={"name": "cup"}).json()
        with Sync() as s:
            stored = s.get(Item, 1).name
        print(json.dumps([claimed, missing, stored]))
    """)
    assert result == [{"name": "cup", "owner": "Ann"}, {"missing": True}, "cup"]


def test_near_miss_a_lock_held_in_a_name_blocks_the_route(cli, service):
    root = service({
        "models.py": dedent(RELATED_MODELS),
        SUBSYSTEM: routes(
            """
            LOCK = {"nowait": True}


            @router.post("/items/{item_id}/claim")
            def claim(item_id: int, db: session_dependency):
                item = db.get(Item, item_id, with_for_update=LOCK)
                return {"owner": item.owner.name}
            """,
        ),
    })
    found = handler(apply(cli, root), "claim")
    assert found["action"] == "blocked" and "with_for_update" in " ".join(found["reasons"]), found
