"""AM302 on a connection opened on the synchronous Engine an AsyncSession's `get_bind()` gives
(`with db.get_bind().connect() as conn:`, `engine = db.get_bind()` then `engine.begin()`): that
Engine is the one its AsyncEngine wraps, which connects only inside `run_sync`, so the route raises
MissingGreenlet on every request; phase two blocks the shape (AM288), `check` passed it as clean.
Reading what it describes (`db.get_bind().dialect.name`), `await db.connection()` and `db.bind`
(the AsyncEngine itself) stay clean. The premise test runs them on aiosqlite."""

from __future__ import annotations

from sample import async_routes

from rules.test_am314_explicit_expiry import BLOG

ROUTES = """
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@router.get("/connect")
async def connect(db: AsyncSession):
    with db.get_bind().connect() as conn:
        return conn.execute(text("select count(*) from posts")).scalar()


@router.get("/begin")
async def begin(db: AsyncSession):
    engine = db.get_bind()
    with engine.begin() as conn:
        return conn.execute(text("select count(*) from posts")).scalar()


@router.get("/described")
async def described(db: AsyncSession):
    conn = await db.connection()
    n = (await conn.execute(text("select count(*) from posts"))).scalar()
    return {"n": n, "dialect": db.get_bind().dialect.name}


@router.get("/bound")
async def bound(db: AsyncSession):
    async with db.bind.connect() as conn:
        return (await conn.execute(text("select count(*) from posts"))).scalar()
"""
FILES = {"blog.py": BLOG}


def test_a_connection_on_the_engine_get_bind_gives_is_am302(app, findings):
    root = app(ROUTES, FILES)
    for function, shown in (("connect", "(db.get_bind().connect())"), ("begin", "(engine.begin())")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM302"], found
        assert shown in found[0]["message"] and "MissingGreenlet" in found[0]["message"], found


def test_near_miss_reading_the_dialect_the_async_connection_and_the_async_engine_are_clean(app, findings):
    root = app(ROUTES, FILES)
    assert findings(root, "described") == []
    assert findings(root, "bound") == []


def test_the_premise_the_engine_behind_the_async_session_does_not_connect_on_the_loop(tmp_path):
    paths = ("connect", "begin", "described", "bound")
    with async_routes(tmp_path, {"blog": BLOG}, ROUTES, lambda blog: [blog.Post(id=1, title="a")]) as client:
        codes = {path: client.get(f"/{path}").status_code for path in paths}
    assert codes == {"connect": 500, "begin": 500, "described": 200, "bound": 200}
