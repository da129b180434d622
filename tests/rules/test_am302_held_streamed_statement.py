"""AM302 on a statement streaming rows from a server-side cursor that a local name holds when an
AsyncSession's `execute()`, `scalars()` or `scalar()` runs it (`stmt = select(Post).execution_options(
yield_per=2)` then `await db.scalars(stmt)`, the option added by a later binding, or a chain on the
name after it): AsyncSession refuses it with AsyncMethodRequired on every request; `check` saw the
option only written in the call. The same name run through `stream_scalars()`, bound again to a
plain statement first, or streamed in a branch that returns before the plain run, is clean. The
premise test runs them on aiosqlite."""

from __future__ import annotations

from sample import async_routes

from rules.test_am314_explicit_expiry import BLOG

ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from blog import Post


@router.get("/held")
async def held(db: AsyncSession):
    stmt = select(Post).execution_options(yield_per=2)
    return [p.title for p in await db.scalars(stmt)]


@router.get("/added")
async def added(db: AsyncSession):
    stmt = select(Post.title)
    stmt = stmt.execution_options(stream_results=True)
    return [row.title for row in await db.execute(stmt)]


@router.get("/extended")
async def extended(db: AsyncSession):
    stmt = select(Post).execution_options(yield_per=2)
    stmt = stmt.where(Post.id > 0)
    return [p.title for p in await db.scalars(stmt)]


@router.get("/streamed")
async def streamed(db: AsyncSession):
    stmt = select(Post).execution_options(yield_per=2)
    return [p.title async for p in await db.stream_scalars(stmt)]


@router.get("/rebound")
async def rebound(db: AsyncSession):
    stmt = select(Post).execution_options(yield_per=2)
    first = [p.title async for p in await db.stream_scalars(stmt)]
    stmt = select(Post)
    return first + [p.title for p in await db.scalars(stmt)]


@router.get("/branch")
async def branch(db: AsyncSession, stream: bool = False):
    stmt = select(Post)
    if stream:
        stmt = stmt.execution_options(yield_per=2)
        return [p.title async for p in await db.stream_scalars(stmt)]
    return [p.title for p in await db.scalars(stmt)]
"""
FILES = {"blog.py": BLOG}


def test_a_held_streaming_statement_through_execute_or_scalars_is_am302(app, findings):
    root = app(ROUTES, FILES)
    for function, shown in (("held", "(db.scalars(stmt) with `yield_per` set on `stmt` at line "),
                            ("added", "(db.execute(stmt) with `stream_results` set on `stmt` at line "),
                            ("extended", "(db.scalars(stmt) with `yield_per` set on `stmt` at line ")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM302"], found
        assert shown in found[0]["message"] and "AsyncMethodRequired" in found[0]["message"], found


def test_near_miss_streamed_rebound_or_streamed_in_a_branch_is_clean(app, findings):
    root = app(ROUTES, FILES)
    for function in ("streamed", "rebound", "branch"):
        assert findings(root, function) == [], function


def test_the_premise_execute_refuses_a_held_streaming_statement(tmp_path):
    paths = ("held", "added", "extended", "streamed", "rebound", "branch", "branch?stream=true")
    with async_routes(tmp_path, {"blog": BLOG}, ROUTES, lambda blog: [blog.Post(id=1, title="a")]) as client:
        codes = {path: client.get(f"/{path}").status_code for path in paths}
    assert codes == {"held": 500, "added": 500, "extended": 500, "streamed": 200, "rebound": 200,
                     "branch": 200, "branch?stream=true": 200}
