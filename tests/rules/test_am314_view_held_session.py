"""AM314 in class-based views holding the request's AsyncSession on `self`, in code already async.

A fastapi-utils `@cbv` view whose own `__init__` stores the AsyncSession it is given (`self.db =
db`), or whose class attribute `db: AsyncSession = Depends(get_db)` does, commits or rolls back
`self.db` in its routes: `check` read commits only on a Session the route names as a local or a
parameter, so a read after `await self.db.commit()` passed, and MissingGreenlet raised. A class
dependency (`view: Items = Depends()`) whose method commits what its `__init__` keeps is the same
shape through a parameter. Near misses: a refresh after the commit, and `expire_on_commit=False`
(a commit then expires nothing; a rollback still does)."""

from __future__ import annotations

from rules.test_am314_holder_built_in_with import HEAD

VIEWS = """
from fastapi import APIRouter, Depends
from fastapi_utils.cbv import cbv
from sqlalchemy.ext.asyncio import AsyncSession

from views_db import Item, get_db

router = APIRouter()


@cbv(router)
class ItemView:
    def __init__(self, db: AsyncSession = Depends(get_db)):
        self.db = db

    @router.put("/items/{item_id}")
    async def restock(self, item_id: int) -> dict:
        item = await self.db.get(Item, item_id)
        item.stock += 1
        await self.db.commit()
        return {"stock": item.stock}

    @router.put("/items/{item_id}/refreshed")
    async def refreshed(self, item_id: int) -> dict:
        item = await self.db.get(Item, item_id)
        item.stock += 1
        await self.db.commit()
        await self.db.refresh(item)
        return {"stock": item.stock}


@cbv(router)
class DeclaredView:
    db: AsyncSession = Depends(get_db)

    @router.put("/declared/{item_id}")
    async def undo(self, item_id: int) -> dict:
        item = await self.db.get(Item, item_id)
        item.stock += 1
        await self.db.rollback()
        return {"stock": item.stock}


class Items:
    def __init__(self, db: AsyncSession = Depends(get_db)):
        self.db = db

    async def get(self, item_id: int):
        return await self.db.get(Item, item_id)

    async def save(self) -> None:
        await self.db.commit()


@router.put("/dependency/{item_id}")
async def through_dependency(item_id: int, items: Items = Depends()) -> dict:
    item = await items.get(item_id)
    item.stock += 1
    await items.save()
    return {"stock": item.stock}
"""


def _root(project, keywords: str = ""):  # type: ignore[no-untyped-def]
    return project({"views_db.py": HEAD.format(url="sqlite+aiosqlite:///./app.db", keywords=keywords), "views.py": VIEWS})


def test_a_read_after_a_view_commits_the_session_its_init_keeps_is_am314(project, findings):
    root = _root(project)
    found = findings(root, "ItemView.restock")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "item.stock (expired by the `self.db.commit()` at line 19)" in found[0]["message"], found
    found = findings(root, "through_dependency")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "`items.save()`, which commits `items.db`" in found[0]["message"], found


def test_a_rollback_on_a_declared_view_session_expires_whatever_expire_on_commit_says(project, findings):
    found = findings(_root(project, ", expire_on_commit=False"), "DeclaredView.undo")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "`self.db.rollback()` (rolls back) at line 39" in found[0]["message"], found


def test_near_miss_a_refresh_after_the_commit_and_a_sessionmaker_keeping_objects(project, findings):
    assert findings(_root(project), "ItemView.refreshed") == []
    kept = _root(project, ", expire_on_commit=False")
    assert findings(kept, "ItemView.restock") == []
    assert findings(kept, "through_dependency") == []
