"""Phase two and `session.merge(Model(...))`: the object merge hands back is loaded by its key with
none of its relationships, and a loader option added to a merge would not apply to an object the
Session holds already. A route reading a relationship on it blocks (AM247, naming the merge), and
one reading columns only migrates (RUN: the merged row is written on SQLite, PostgreSQL and
MariaDB); `check` reports the relationship read on a hand-migrated route (AM314)."""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models('owner: Mapped[User] = relationship(back_populates="items")', user='items: Mapped[list["Item"]] = relationship(back_populates="owner")')
ROUTES = """
@router.put("/users/{user_id}")
def rename_user(user_id: int, name: str, db: session_dependency):
    user = db.merge(User(id=user_id, name=name))
    db.commit()
    return {"name": user.name, "items": len(user.items)}


@router.put("/items/{item_id}")
def rename_item(item_id: int, name: str, db: session_dependency):
    item = db.merge(Item(id=item_id, name=name, owner_id=1))
    db.commit()
    return {"id": item.id, "name": item.name}
"""
RUN = """
with Sync() as s:
    s.add(Item(id=1, name="pen", owner_id=1))
    s.commit()
answered = client.put("/items/1", params={"name": "ink"}).json()
with Sync() as s:
    stored = s.scalars(select(Item.name)).all()
print(json.dumps([answered, stored]))
"""


def _files() -> dict[str, str]:
    return {"models.py": MODELS, SUBSYSTEM: routes(ROUTES)}


def test_a_relationship_read_on_a_merged_object_blocks_naming_the_merge(cli, service):
    root = service(_files())
    found = handler(apply(cli, root), "rename_user")
    assert found["action"] == "blocked" and "AM247" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM247")]
    assert "`db.merge(...)` at line" in reason and "User.items" in reason, reason
    assert function(root, SUBSYSTEM, "rename_user").startswith("def rename_user")


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_merged_object_read_for_its_columns_migrates_and_the_row_is_written(cli, service, kind):
    root = service(_files())
    found = handler(apply(cli, root), "rename_item")
    assert found["action"] == "migrate", found
    migrated = function(root, SUBSYSTEM, "rename_item")
    assert "await db.merge(Item(" in migrated and "await db.commit()" in migrated, migrated
    assert serve(root, kind, RUN) == [{"id": 1, "name": "ink"}, ["ink"]]


CHECKED = """
from sqlalchemy.ext.asyncio import AsyncSession

from models import User


@router.put("/users/{user_id}")
async def rename_user(user_id: int, name: str, db: AsyncSession):
    user = await db.merge(User(id=user_id, name=name))
    await db.commit()
    return {"items": len(user.items)}


@router.put("/users/{user_id}/refreshed")
async def rename_refreshed(user_id: int, name: str, db: AsyncSession):
    user = await db.merge(User(id=user_id, name=name))
    await db.refresh(user, attribute_names=["items"])
    return {"items": len(user.items)}
"""


def test_check_reports_a_relationship_read_on_a_merged_object(cli, service):
    root = service({"models.py": MODELS, SUBSYSTEM: routes(CHECKED)})
    findings = cli.json("check", root)["findings"]
    found = [f for f in findings if f["function"] == "rename_user"]
    assert [f["code"] for f in found] == ["AM314"], findings
    assert "user.items (lazy load)" in found[0]["message"], found[0]["message"]
    assert not [f for f in findings if f["function"] == "rename_refreshed"], findings
