"""AM302 on an awaited method AsyncSession keeps synchronous (`await db.add(post)`, `await
db.expire(post)`), in the handler or in a coroutine it hands the AsyncSession to: the method returns
None, so the `await` raises TypeError on every request; `check` passed it as clean. The same calls
without `await` are clean. The premise test runs them on aiosqlite."""

from __future__ import annotations

from sample import async_routes

from rules.test_am314_explicit_expiry import BLOG

ROUTES = """
from sqlalchemy.ext.asyncio import AsyncSession

from blog import Post


async def store(post_id: int, db: AsyncSession) -> None:
    await db.add(Post(id=post_id, title="b"))
    await db.commit()


@router.post("/added")
async def added(db: AsyncSession):
    await db.add(Post(id=2, title="b"))
    await db.commit()
    return {"ok": True}


@router.post("/helper")
async def helper(db: AsyncSession):
    await store(3, db)
    return {"ok": True}


@router.post("/plain")
async def plain(db: AsyncSession):
    db.add(Post(id=4, title="d"))
    await db.commit()
    return {"ok": True}
"""
FILES = {"blog.py": BLOG}


def test_an_awaited_synchronous_asyncsession_method_is_am302(app, findings):
    root = app(ROUTES, FILES)
    [found] = findings(root, "added")
    assert found["code"] == "AM302" and "(await db.add())" in found["message"], found
    assert "TypeError" in found["message"], found
    [found] = findings(root, "helper")
    assert found["code"] == "AM302" and "await db.add() in" in found["message"], found


def test_near_miss_the_method_called_without_await_is_clean(app, findings):
    root = app(ROUTES, FILES)
    assert findings(root, "plain") == []


def test_the_premise_awaiting_add_raises(tmp_path):
    with async_routes(tmp_path, {"blog": BLOG}, ROUTES, lambda blog: [blog.Post(id=1, title="a")]) as client:
        codes = {path: client.post(f"/{path}").status_code for path in ("added", "helper", "plain")}
    assert codes == {"added": 500, "helper": 500, "plain": 200}
