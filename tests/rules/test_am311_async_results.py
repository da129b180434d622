"""AM311 on what an awaited AsyncSession call hands back: `result = await db.stream(q)` is an
AsyncResult and `conn = await db.connection()` an AsyncConnection, whose own methods are
coroutines (`await result.all()`, `await conn.execute(q)`). Called without `await` they give a
coroutine: iterating it raises TypeError, and the statement never runs. `check` passed such
routes as clean. The premise test runs them on aiosqlite."""

from __future__ import annotations

import pytest
from sample import async_routes

from rules.test_am314_explicit_expiry import BLOG

ROUTES = """
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from blog import Post


@router.get("/all")
async def all_(db: AsyncSession):
    result = await db.stream_scalars(select(Post))
    posts = result.all()
    return [p.title for p in posts]


@router.get("/view")
async def view(db: AsyncSession):
    result = await db.stream(select(Post))
    return [p.title for p in result.scalars().all()]


@router.get("/connection")
async def connection(db: AsyncSession):
    conn = await db.connection()
    rows = conn.execute(text("select title from posts"))
    return [r[0] for r in rows]


@router.get("/awaited")
async def awaited(db: AsyncSession):
    result = await db.stream(select(Post))
    conn = await db.connection()
    await conn.execute(text("select 1"))
    return [p.title for p in await result.scalars().all()]
"""
FILES = {"blog.py": BLOG}


@pytest.mark.parametrize(
    ("function", "shown"),
    [("all_", "line 17 (result.all())"), ("view", "line 24 (result.scalars().all())"),
     ("connection", "line 30 (conn.execute())")],
)
def test_a_coroutine_method_of_an_async_result_or_connection_unawaited_is_am311(app, findings, function, shown):
    found = findings(app(ROUTES, FILES), function)
    assert [f["code"] for f in found] == ["AM311"], found
    assert shown in found[0]["message"], found


def test_near_miss_each_awaited_is_clean(app, findings):
    assert findings(app(ROUTES, FILES), "awaited") == []


def test_the_premise_unawaited_they_fail_and_awaited_they_answer(tmp_path):
    with async_routes(tmp_path, {"blog": BLOG}, ROUTES, lambda blog: [blog.Post(id=1, title="a")]) as client:
        codes = {path: client.get(f"/{path}").status_code for path in ("all", "view", "connection", "awaited")}
    assert codes == {"all": 500, "view": 500, "connection": 500, "awaited": 200}
