"""AM311 on a coroutine whose result a chain goes on with: `await db.execute(q).scalars().all()`
awaits only the chain's last call, and `.scalars` is looked up on the coroutine `db.execute(q)`
returns (AttributeError). The finding said "await it" of a line that already awaits; it now
says where the `await` goes. The premise test runs the routes on aiosqlite."""

from __future__ import annotations

import pytest
from sample import async_routes

from rules.test_am314_explicit_expiry import BLOG

ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from blog import Post


@router.get("/chained")
async def chained(db: AsyncSession):
    rows = await db.execute(select(Post)).scalars().all()
    return [p.title for p in rows]


@router.get("/bare")
async def bare(db: AsyncSession):
    db.execute(select(Post))
    return []


@router.get("/parenthesised")
async def parenthesised(db: AsyncSession):
    rows = (await db.execute(select(Post))).scalars().all()
    return [p.title for p in rows]
"""
FILES = {"blog.py": BLOG}


def test_an_await_before_the_chain_is_am311_saying_where_the_await_goes(app, findings):
    found = findings(app(ROUTES, FILES), "chained")
    assert [f["code"] for f in found] == ["AM311"], found
    message = found[0]["message"]
    assert "db.execute() with `.scalars(...)` called on it" in message, message
    assert "write `(await db.execute(...)).scalars(...)`" in message, message


def test_near_miss_a_bare_unawaited_call_says_only_await_it(app, findings):
    found = findings(app(ROUTES, FILES), "bare")
    assert [f["code"] for f in found] == ["AM311"], found
    assert "called on it" not in found[0]["message"], found


def test_near_miss_the_awaited_call_parenthesised_is_clean(app, findings):
    assert findings(app(ROUTES, FILES), "parenthesised") == []


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited")
def test_the_premise_the_chained_await_fails_and_the_parenthesised_one_answers(tmp_path):
    with async_routes(tmp_path, {"blog": BLOG}, ROUTES, lambda blog: [blog.Post(id=1, title="a")]) as client:
        codes = {path: client.get(f"/{path}").status_code for path in ("chained", "parenthesised")}
    assert codes == {"chained": 500, "parenthesised": 200}
