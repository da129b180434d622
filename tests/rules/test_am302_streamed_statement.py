"""AM302 on a statement streaming rows from a server-side cursor run through an AsyncSession's
`execute()`, `scalars()` or `scalar()` (`execution_options(yield_per=...)`, `stream_results`,
also given as `execution_options={...}`): AsyncSession refuses it with AsyncMethodRequired on every
request; `check` passed it as clean. Through `stream()` / `stream_scalars()` it is clean. The
premise test runs them on aiosqlite."""

from __future__ import annotations

from sample import async_routes

from rules.test_am314_explicit_expiry import BLOG

ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from blog import Post


@router.get("/chained")
async def chained(db: AsyncSession):
    return [p.title for p in await db.scalars(select(Post).execution_options(yield_per=2))]


@router.get("/given")
async def given(db: AsyncSession):
    result = await db.execute(select(Post.title), execution_options={"stream_results": True})
    return [row.title for row in result]


@router.get("/streamed")
async def streamed(db: AsyncSession):
    return [p.title async for p in await db.stream_scalars(select(Post).execution_options(yield_per=2))]


@router.get("/chunked")
async def chunked(db: AsyncSession):
    return [len(part) for part in (await db.scalars(select(Post))).yield_per(2).partitions()]
"""
FILES = {"blog.py": BLOG}


def test_a_streaming_statement_through_execute_or_scalars_is_am302(app, findings):
    root = app(ROUTES, FILES)
    for function, shown in (("chained", "(db.scalars() with `yield_per`)"),
                            ("given", "(db.execute() with `stream_results`)")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM302"], found
        assert shown in found[0]["message"] and "AsyncMethodRequired" in found[0]["message"], found


def test_near_miss_stream_scalars_and_a_run_result_chunked_are_clean(app, findings):
    root = app(ROUTES, FILES)
    assert findings(root, "streamed") == []
    assert findings(root, "chunked") == []


def test_the_premise_execute_refuses_a_streaming_statement_and_stream_answers(tmp_path):
    paths = ("chained", "given", "streamed", "chunked")
    with async_routes(tmp_path, {"blog": BLOG}, ROUTES, lambda blog: [blog.Post(id=1, title="a")]) as client:
        codes = {path: client.get(f"/{path}").status_code for path in paths}
    assert codes == {"chained": 500, "given": 500, "streamed": 200, "chunked": 200}
