"""AM311 on an AsyncSession coroutine method a nested plain function or lambda calls on the Session
it is handed as a parameter's default (`(lambda s=db: s.commit())()`, `def save(s=db): return
s.commit()` called as `save()`): the scope cannot await, and nothing awaits what it hands back, so
the commit never runs and the write is lost with a 200. `check` passed such routes as clean. The
same scope awaited where it is called, or handed to `run_sync`, is clean. The premise test runs
them on aiosqlite."""

from __future__ import annotations

import warnings

import pytest
from sample import async_routes

from rules.test_am314_explicit_expiry import BLOG

ROUTES = """
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from blog import Post


@router.post("/lambda")
async def called_lambda(db: AsyncSession):
    db.add(Post(id=2, title="b"))
    (lambda s=db: s.commit())()


@router.post("/nested")
async def nested(db: AsyncSession):
    db.add(Post(id=3, title="c"))

    def save(s=db):
        return s.commit()

    save()


@router.post("/held")
async def held(db: AsyncSession):
    db.add(Post(id=4, title="d"))
    finish = lambda s=db: s.commit()  # noqa: E731
    finish()


@router.post("/awaited")
async def awaited(db: AsyncSession):
    db.add(Post(id=5, title="e"))
    await (lambda s=db: s.flush())()

    def save(s=db):
        return s.commit()

    await save()


@router.post("/greenlet")
async def greenlet(db: AsyncSession):
    db.add(Post(id=6, title="f"))
    await db.run_sync(lambda s=db: s.flush())
    await db.commit()


@router.get("/count")
async def count(db: AsyncSession):
    return await db.scalar(select(func.count()).select_from(Post))
"""
FILES = {"blog.py": BLOG}


@pytest.mark.parametrize("function", ["called_lambda", "nested", "held"])
def test_a_commit_on_a_default_handed_to_a_nested_scope_unawaited_is_am311(app, findings, function):
    found = findings(app(ROUTES, FILES), function)
    assert [f["code"] for f in found] == ["AM311"], found
    assert "(s.commit() on `db`, the default of" in found[0]["message"], found


def test_near_miss_the_scope_awaited_or_run_through_run_sync_is_clean(app, findings):
    root = app(ROUTES, FILES)
    assert findings(root, "awaited") == []
    assert findings(root, "greenlet") == []


def test_the_premise_unawaited_the_write_is_lost_and_awaited_it_is_kept(tmp_path):
    counts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the coroutines never awaited
        with async_routes(tmp_path, {"blog": BLOG}, ROUTES, lambda blog: [blog.Post(id=1, title="a")]) as client:
            for path in ("lambda", "nested", "held", "awaited", "greenlet"):
                assert client.post(f"/{path}").status_code == 200, path
                counts.append(client.get("/count").json())
    # the three unawaited commits wrote nothing; the awaited one and the run_sync one did
    assert counts == [1, 1, 1, 2, 3]
