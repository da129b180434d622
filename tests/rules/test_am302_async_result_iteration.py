"""AM302 on an AsyncResult iterated synchronously, and AM311 on a coroutine method called through
the `await` that made it. What `await db.stream(q)` and `await db.stream_scalars(q)` give
(AsyncResult, AsyncScalarResult, and their views `result.scalars()`) has `__aiter__` only: a
plain `for`, a comprehension or `list()` over it raises TypeError, as a plain `with` on an
AsyncSession does. `(await db.stream(q)).all()` without its own `await` is a coroutine. `check`
passed all of these as clean. The premise test runs them on aiosqlite."""

from __future__ import annotations

import pytest
from sample import async_routes

from rules.test_am314_explicit_expiry import BLOG

ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from blog import Post


@router.get("/loop")
async def loop(db: AsyncSession):
    out = []
    for row in await db.stream(select(Post)):
        out.append(row[0].title)
    return out


@router.get("/comprehension")
async def comprehension(db: AsyncSession):
    return [p.title for p in await db.stream_scalars(select(Post))]


@router.get("/held")
async def held(db: AsyncSession):
    result = await db.stream(select(Post))
    return [p.title for p in result.scalars()]


@router.get("/listed")
async def listed(db: AsyncSession):
    return len(list(await db.stream_scalars(select(Post))))


@router.get("/inline")
async def inline(db: AsyncSession):
    posts = (await db.stream(select(Post))).scalars().all()
    return [p.title for p in posts]


@router.get("/awaited")
async def awaited(db: AsyncSession):
    out = [p.title async for p in await db.stream_scalars(select(Post))]
    result = await db.stream(select(Post))
    async for p in result.scalars():
        out.append(p.title)
    out.extend(p.title for p in await (await db.stream_scalars(select(Post))).all())
    out.extend(p.title for p in (await db.execute(select(Post))).scalars())
    return out
"""
HELPERS = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from blog import Post


class Posts:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def titles(self):
        return [p.title for p in await self.session.stream_scalars(select(Post))]


async def titles(db):
    return sorted(p.title for p in await db.stream_scalars(select(Post)))


async def titles_async(db):
    return sorted([p.title async for p in await db.stream_scalars(select(Post))])
"""
CALLERS = """
from sqlalchemy.ext.asyncio import AsyncSession

from helpers import Posts, titles, titles_async


@router.get("/repository")
async def repository(db: AsyncSession):
    return await Posts(db).titles()


@router.get("/helper")
async def helper(db: AsyncSession):
    return await titles(db)


@router.get("/helper-async")
async def helper_async(db: AsyncSession):
    return await titles_async(db)
"""
FILES = {"blog.py": BLOG}


@pytest.mark.parametrize(
    ("function", "shown"),
    [("loop", "line 17 (db.stream())"), ("comprehension", "line 24 (db.stream_scalars())"),
     ("held", "line 30 (result.scalars())"), ("listed", "line 35 (db.stream_scalars())")],
)
def test_an_async_result_iterated_synchronously_is_am302(app, findings, function, shown):
    found = findings(app(ROUTES, FILES), function)
    assert [f["code"] for f in found] == ["AM302"], found
    assert shown in found[0]["message"] and "async for" in found[0]["message"], found


def test_a_coroutine_method_through_the_await_that_made_the_result_is_am311(app, findings):
    found = findings(app(ROUTES, FILES), "inline")
    assert [f["code"] for f in found] == ["AM311"], found
    assert "line 40 (db.stream().scalars().all())" in found[0]["message"], found


@pytest.mark.parametrize(
    ("function", "shown"),
    [("repository", "helpers.py:12 (self.session.stream_scalars() in helpers.Posts.titles)"),
     ("helper", "helpers.py:16 (db.stream_scalars() in helpers.titles)")],
)
def test_in_a_helper_or_a_repository_it_is_am302_on_the_route(app, findings, function, shown):
    root = app(CALLERS, {**FILES, "helpers.py": HELPERS})
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM302"], found
    assert shown in found[0]["message"], found


def test_near_miss_async_for_and_awaited_lists_are_clean(app, findings):
    assert findings(app(ROUTES, FILES), "awaited") == []
    assert findings(app(CALLERS, {**FILES, "helpers.py": HELPERS}), "helper_async") == []


def test_the_premise_iterated_synchronously_they_fail_and_async_for_answers(tmp_path):
    paths = ("loop", "comprehension", "held", "listed", "inline", "awaited")
    with async_routes(tmp_path, {"blog": BLOG}, ROUTES, lambda blog: [blog.Post(id=1, title="a")]) as client:
        codes = {path: client.get(f"/{path}").status_code for path in paths}
    assert codes == {"loop": 500, "comprehension": 500, "held": 500, "listed": 500, "inline": 500, "awaited": 200}
