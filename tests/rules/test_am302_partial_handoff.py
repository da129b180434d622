"""AM302 on a `functools.partial` binding the AsyncSession to a synchronous helper doing Session
work (`audit = partial(write_audit, db)`, called later as `audit("viewed")`): the helper's
`db.commit()` on the AsyncSession is a coroutine nobody awaits, so the row is silently lost;
`check` passed it as clean while `write_audit(db, "viewed")` was AM302. Near misses: a partial of
a helper not given the Session, and one handed straight to `to_thread` (reported once, by that
call)."""

from __future__ import annotations

from sample import async_routes

from rules.test_am314_explicit_expiry import BLOG

ROUTES = """
import asyncio
import functools
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from blog import Post


def write_post(db: Session, title: str) -> None:
    db.add(Post(title=title))
    db.commit()


def label(prefix: str, title: str) -> str:
    return prefix + title


@router.post("/bound")
async def bound(db: AsyncSession):
    save = functools.partial(write_post, db)
    save("b")
    return {"ok": True}


@router.post("/keyword")
async def keyword(db: AsyncSession):
    save = partial(write_post, db=db)
    save(title="c")
    return {"ok": True}


@router.post("/unrelated")
async def unrelated(db: AsyncSession):
    named = partial(label, "x")
    db.add(Post(title=named("d")))
    await db.commit()
    return {"ok": True}


@router.post("/threaded")
async def threaded(db: AsyncSession):
    await asyncio.to_thread(partial(write_post, db), "e")
    return {"ok": True}


@router.get("/count")
async def count(db: AsyncSession):
    return {"n": await db.scalar(select(func.count()).select_from(Post))}
"""
FILES = {"blog.py": BLOG}


def test_a_partial_binding_the_asyncsession_to_a_sync_helper_is_am302(app, findings):
    root = app(ROUTES, FILES)
    for name in ("bound", "keyword"):
        [found] = findings(root, name)
        assert found["code"] == "AM302" and "write_post(...)" in found["message"], (name, found)


def test_near_miss_a_partial_not_given_the_session_and_one_handed_to_to_thread_once(app, findings):
    root = app(ROUTES, FILES)
    assert findings(root, "unrelated") == []
    assert [f["code"] for f in findings(root, "threaded")] == ["AM302"]


def test_the_premise_the_row_is_lost(tmp_path):
    with async_routes(tmp_path, {"blog": BLOG}, ROUTES, lambda blog: [blog.Post(id=1, title="a")]) as client:
        assert client.post("/bound").status_code == 200
        assert client.get("/count").json() == {"n": 1}  # no row written
        assert client.post("/unrelated").status_code == 200
        assert client.get("/count").json() == {"n": 2}
