"""AM302 on a synchronous context manager of an AsyncSession entered with `async with` (`async with
db.begin(), db.no_autoflush:`, left from code that entered both in one `with`, or `async with
db.no_autoflush:` alone): `no_autoflush` has no `__aenter__`, so the statement raises TypeError on
every request before its block runs; `check` passed it as clean. `async with db.begin():` alone,
and `with db.no_autoflush:` inside it, are clean. The premise test runs them on aiosqlite."""

from __future__ import annotations

from sample import async_routes

from rules.test_am314_explicit_expiry import BLOG

ROUTES = """
from sqlalchemy.ext.asyncio import AsyncSession

from blog import Post


@router.post("/both")
async def both(db: AsyncSession):
    async with db.begin(), db.no_autoflush:
        db.add(Post(id=2, title="b"))
    return {"ok": True}


@router.post("/alone")
async def alone(db: AsyncSession):
    async with db.no_autoflush:
        db.add(Post(id=3, title="c"))
    await db.commit()
    return {"ok": True}


@router.post("/nested")
async def nested(db: AsyncSession):
    async with db.begin():
        with db.no_autoflush:
            db.add(Post(id=4, title="d"))
    return {"ok": True}


@router.post("/begun")
async def begun(db: AsyncSession):
    async with db.begin():
        db.add(Post(id=5, title="e"))
    return {"ok": True}
"""
FILES = {"blog.py": BLOG}


def test_no_autoflush_entered_with_async_with_is_am302(app, findings):
    root = app(ROUTES, FILES)
    for function in ("both", "alone"):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM302"], found
        assert "(async with db.no_autoflush)" in found[0]["message"] and "__aenter__" in found[0]["message"], found


def test_near_miss_the_transaction_alone_and_no_autoflush_in_a_plain_with_are_clean(app, findings):
    root = app(ROUTES, FILES)
    assert findings(root, "nested") == []
    assert findings(root, "begun") == []


def test_the_premise_async_with_no_autoflush_raises(tmp_path):
    paths = ("both", "alone", "nested", "begun")
    with async_routes(tmp_path, {"blog": BLOG}, ROUTES, lambda blog: [blog.Post(id=1, title="a")]) as client:
        codes = {path: client.post(f"/{path}").status_code for path in paths}
    assert codes == {"both": 500, "alone": 500, "nested": 200, "begun": 200}
