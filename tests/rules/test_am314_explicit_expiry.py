"""AM314 after an explicit expiry: `db.expire(post)` or `db.expire_all()` on an AsyncSession (no
coroutines: they expire at once) leaves the next attribute read to refresh the row, with no greenlet
to run it: MissingGreenlet. `check` counted only an awaited commit or rollback. A refresh after the
expiry clears it; the fix offered is the refresh, since `expire_on_commit=False` keeps nothing an
explicit expiry expires. The premise test runs the routes on aiosqlite."""

from __future__ import annotations

import pytest
from sample import async_routes

BLOG = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
"""
ROUTES = """
from sqlalchemy.ext.asyncio import AsyncSession

from blog import Post


@router.get("/one")
async def one(db: AsyncSession):
    post = await db.get(Post, 1)
    db.expire(post)
    return {"title": post.title}


@router.get("/every")
async def every(db: AsyncSession):
    post = await db.get(Post, 1)
    db.expire_all()
    return {"title": post.title}


@router.get("/refreshed")
async def refreshed(db: AsyncSession):
    post = await db.get(Post, 1)
    db.expire(post)
    await db.refresh(post)
    return {"title": post.title}


@router.get("/named")
async def named(db: AsyncSession):
    post = await db.get(Post, 1)
    db.expire(post, ["title"])
    return {"title": post.title}


@router.get("/other")
async def other(db: AsyncSession):
    post = await db.get(Post, 1)
    db.expire(post, ["title"])
    return {"id": post.id}


@router.get("/before")
async def before(db: AsyncSession):
    post = await db.get(Post, 1)
    title = post.title
    db.expire_all()
    return {"title": title}
"""
FILES = {"blog.py": BLOG}


@pytest.mark.parametrize(("function", "method"), [("one", "expire"), ("every", "expire_all")])
def test_a_read_after_an_explicit_expiry_is_am314(app, findings, function, method):
    found = findings(app(ROUTES, FILES), function)
    assert [f["code"] for f in found] == ["AM314"], found
    message = found[0]["message"]
    assert f"post.title (expired by the db.{method}() at line" in message, message
    assert "`await session.refresh(obj)` after what expired it" in message and "expire_on_commit=False" not in message.split(
        "MissingGreenlet; ")[-1], message


def test_a_read_of_an_attribute_an_expiry_names_is_am314(app, findings):
    found = findings(app(ROUTES, FILES), "named")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "post.title (expired by the db.expire() at line" in found[0]["message"], found


@pytest.mark.parametrize("function", ["refreshed", "before", "other"])
def test_near_miss_a_refresh_after_it_a_read_before_it_or_of_another_attribute_is_clean(app, findings, function):
    assert findings(app(ROUTES, FILES), function) == []


def test_the_premise_a_read_after_an_explicit_expiry_raises(tmp_path):
    with async_routes(tmp_path, {"blog": BLOG}, ROUTES, lambda blog: [blog.Post(id=1, title="a")]) as client:
        paths = ("one", "every", "refreshed", "named", "other", "before")
        codes = {path: client.get(f"/{path}").status_code for path in paths}
    assert codes == {"one": 500, "every": 500, "refreshed": 200, "named": 500, "other": 200, "before": 200}


RAISED = """
from fastapi import HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from blog import Post


@router.get("/raises")
async def raises(db: AsyncSession, fail: int = 0):
    post = await db.get(Post, 1)
    try:
        if fail:
            raise ValueError(fail)
    except ValueError:
        await db.rollback()
        raise HTTPException(status_code=409, detail="conflict")
    return {"title": post.title}


@router.get("/returns")
async def returns(db: AsyncSession, fail: int = 0):
    post = await db.get(Post, 1)
    if fail:
        db.expire_all()
        return {"failed": fail}
    return {"title": post.title}


@router.get("/falls-through")
async def falls_through(db: AsyncSession, fail: int = 0):
    post = await db.get(Post, 1)
    try:
        if fail:
            raise ValueError(fail)
    except ValueError:
        await db.rollback()
    return {"title": post.title}


@router.get("/caught")
async def caught(db: AsyncSession, fail: int = 0):
    post = await db.get(Post, 1)
    try:
        if fail:
            await db.rollback()
            raise ValueError(fail)
    except ValueError:
        pass
    return {"title": post.title}
"""


@pytest.mark.parametrize("function", ["falls_through", "caught"])
def test_a_read_the_expiring_block_falls_through_to_is_am314(app, findings, function):
    found = findings(app(RAISED, FILES), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "post.title (expired by the db.rollback() at line" in found[0]["message"], found


@pytest.mark.parametrize("function", ["raises", "returns"])
def test_near_miss_an_expiry_in_a_block_that_leaves_the_route_reaches_no_later_read(app, findings, function):
    # `except IntegrityError: await db.rollback(); raise HTTPException(409)`: the read below the
    # handler runs only when nothing was rolled back, and was reported all the same
    assert findings(app(RAISED, FILES), function) == []


def test_the_premise_only_a_read_after_the_expiring_block_raises(tmp_path):
    with async_routes(tmp_path, {"blog": BLOG}, RAISED, lambda blog: [blog.Post(id=1, title="a")]) as client:
        paths = ("raises", "returns", "falls-through", "caught")
        codes = {path: client.get(f"/{path}?fail=1").status_code for path in paths}
    assert codes == {"raises": 409, "returns": 200, "falls-through": 500, "caught": 500}
