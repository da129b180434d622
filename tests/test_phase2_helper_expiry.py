"""Phase two and a helper given the Session that expires without committing, RUN on three databases.

`zero_name(db, item)` ending `db.expire(item)` after raw SQL, `forget(db)` ending `expire_all()`
after a bulk UPDATE, `undo(db)` rolling back (reached through another helper): each expires the
route's object whatever expire_on_commit says, and the route's read after the call reloaded
the row in the synchronous code. Phase two followed a helper's commits only: the migrated
route read the expired object and serialising it raised MissingGreenlet. It now refreshes the
object after the call, as after the same call in the route's own body. Near misses: an
`expire()` of another object refreshes that one only, and a helper whose rollback is followed
by `raise` (it never returns there) gets no refresh. Each route's answer and the rows are read
on SQLite, PostgreSQL and MariaDB, before and after the migration.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTES = """
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text, update


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner_id: int


def zero_name(db: Session, item: Item) -> None:
    db.execute(text("UPDATE items SET name = 'zero' WHERE id = :id"), {"id": item.id})
    db.expire(item)


def forget(db: Session) -> None:
    db.execute(update(Item).values(owner_id=2).execution_options(synchronize_session=False))
    db.expire_all()


def undo(db: Session) -> None:
    db.rollback()


def undo_through(db: Session) -> None:
    undo(db)


def save(db: Session) -> None:
    try:
        db.commit()
    except Exception:
        db.rollback()
        raise


@router.post("/items/{item_id}/zero", response_model=ItemOut)
def zero(item_id: int, db: Session = Depends(get_db_session)):
    item = db.get(Item, item_id)
    zero_name(db, item)
    return item


@router.post("/items/{item_id}/zero-other")
def zero_other(item_id: int, db: Session = Depends(get_db_session)):
    item = db.get(Item, item_id)
    other = db.get(Item, item_id + 1)
    zero_name(db, other)
    return {"item": item.name, "other": other.name}


@router.post("/items/{item_id}/forget")
def forget_owner(item_id: int, db: Session = Depends(get_db_session)):
    item = db.get(Item, item_id)
    forget(db)
    return {"owner": item.owner_id}


@router.post("/items/{item_id}/undo")
def rename_undone(item_id: int, name: str, db: Session = Depends(get_db_session)):
    item = db.get(Item, item_id)
    item.name = name
    undo_through(db)
    return {"name": item.name}


@router.post("/items/{item_id}/save")
def rename_saved(item_id: int, name: str, db: Session = Depends(get_db_session)):
    item = db.get(Item, item_id)
    item.name = name
    save(db)
    return {"name": item.name}
"""
RUN = """
with Sync() as s:
    s.add_all([Item(id=1, name="pen", owner_id=1), Item(id=2, name="ink", owner_id=1)])
    s.commit()
answers = []
for path, params in (("zero", {}), ("zero-other", {}), ("forget", {}), ("undo", {"name": "cap"}), ("save", {"name": "nib"})):
    response = client.post(f"/items/1/{path}", params=params)
    answers.append([response.status_code, response.json()])
with Sync() as s:
    stored = [[item.name, item.owner_id] for item in s.scalars(select(Item).order_by(Item.id))]
print(json.dumps([answers, stored]))
"""
EXPECTED = [
    [
        [200, {"name": "zero", "owner_id": 1}], [200, {"item": "pen", "other": "zero"}], [200, {"owner": 2}],
        [200, {"name": "pen"}], [200, {"name": "nib"}],
    ],
    [["nib", 1], ["ink", 1]],
]


@pytest.mark.parametrize("kind", KINDS)
def test_a_helpers_expire_or_rollback_is_refreshed_after_and_the_routes_answer_what_the_database_holds(
    cli, service, kind
):
    root = service({SUBSYSTEM: routes(ROUTES)})
    assert serve(root, kind, RUN) == EXPECTED
    document = apply(cli, root)
    for name in ("zero", "zero_other", "forget_owner", "rename_undone", "rename_saved"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)["reasons"]
    text = read(root, SUBSYSTEM)
    zero, other = text.split("async def zero(")[1].split("async def zero_other(")
    other, forgotten = other.split("async def forget_owner(")
    forgotten, undone = forgotten.split("async def rename_undone(")
    undone, saved = undone.split("async def rename_saved(")
    assert "    await zero_name(db, item)\n    if item is not None:\n        await db.refresh(item)\n" in zero, text
    assert "    await zero_name(db, other)\n    if other is not None:\n        await db.refresh(other)\n" in other, text
    assert "refresh(item)" not in other, text
    assert "    await forget(db)\n    if item is not None:\n        await db.refresh(item)\n" in forgotten, text
    assert "    await undo_through(db)\n    if item is not None:\n        await db.refresh(item)\n" in undone, text
    assert "refresh" not in saved, text
    assert serve(root, kind, RUN) == EXPECTED
