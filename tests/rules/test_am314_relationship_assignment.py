"""AM314 and assigning a relationship: `comment.post = post` on an object an AsyncSession loaded
sets a single-object relationship without a query (SQLAlchemy 2 loads the value it replaces at
the flush, inside the awaited commit, and queues the backref's change to an unloaded collection),
whatever its join or other side, so `check` no longer reports it as a lazy load. One declared
`active_history=True` loads the old value at once, and assigning a collection loads the old one:
both stay AM314, as does a read of the attribute on the same line. The premise test runs each
route on aiosqlite."""

from __future__ import annotations

import pytest
from sample import async_routes

MODELS = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    comments: Mapped[list["Comment"]] = relationship(back_populates="post")
    notes: Mapped[list["Note"]] = relationship(back_populates="post")
    cover: Mapped["Cover"] = relationship(back_populates="post")
    pins: Mapped[list["Pin"]] = relationship(back_populates="post")


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    post: Mapped[Post] = relationship(back_populates="comments")


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_code: Mapped[str] = mapped_column(ForeignKey("posts.code"))
    post: Mapped[Post] = relationship(back_populates="notes")


class Cover(Base):
    __tablename__ = "covers"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    post: Mapped[Post] = relationship(back_populates="cover")


class Pin(Base):
    __tablename__ = "pins"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    post: Mapped[Post] = relationship(back_populates="pins", active_history=True)
"""
ROUTES = """
from sqlalchemy.ext.asyncio import AsyncSession

from blog import Comment, Cover, Note, Pin, Post


@router.post("/moved")
async def moved(db: AsyncSession):
    comment = await db.get(Comment, 1)
    comment.post = await db.get(Post, 2)
    await db.commit()
    return {"ok": True}


@router.post("/by_code")
async def by_code(db: AsyncSession):
    note = await db.get(Note, 1)
    note.post = await db.get(Post, 2)
    await db.commit()
    return {"ok": True}


@router.post("/one_to_one")
async def one_to_one(db: AsyncSession):
    cover = await db.get(Cover, 1)
    cover.post = await db.get(Post, 2)
    await db.commit()
    return {"ok": True}


@router.post("/pinned")
async def pinned(db: AsyncSession):
    pin = await db.get(Pin, 1)
    pin.post = await db.get(Post, 2)
    await db.commit()
    return {"ok": True}


@router.post("/replaced")
async def replaced(db: AsyncSession):
    post = await db.get(Post, 1)
    post.comments = []
    await db.commit()
    return {"ok": True}


@router.post("/read_back")
async def read_back(db: AsyncSession):
    comment = await db.get(Comment, 1)
    comment.post = comment.post or await db.get(Post, 2)
    await db.commit()
    return {"ok": True}
"""
FILES = {"blog.py": MODELS}
FILES_MODULES = {"blog": MODELS}


@pytest.mark.parametrize("function", ["moved", "by_code", "one_to_one"])
def test_setting_a_single_object_relationship_is_no_finding(app, findings, function):
    assert findings(app(ROUTES, FILES), function) == []


@pytest.mark.parametrize("function", ["pinned", "replaced", "read_back"])
def test_near_miss_active_history_a_collection_or_a_read_is_am314(app, findings, function):
    found = findings(app(ROUTES, FILES), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "(lazy load)" in found[0]["message"], found[0]["message"]


def test_the_premise_only_the_many_to_one_by_primary_key_sets_without_a_query(tmp_path):
    def seed(blog):  # type: ignore[no-untyped-def]
        first, second = blog.Post(id=1, code="a"), blog.Post(id=2, code="b")
        return [first, second, blog.Comment(id=1, post=first), blog.Note(id=1, post=first),
                blog.Cover(id=1, post=first), blog.Pin(id=1, post=first)]

    with async_routes(tmp_path, FILES_MODULES, ROUTES, seed) as client:
        codes = {path: client.post(f"/{path}").status_code for path in ("moved", "by_code", "one_to_one", "pinned", "replaced")}
    # MissingGreenlet loading the old value at once: the pin's post, the post's comments
    assert codes == {"moved": 200, "by_code": 200, "one_to_one": 200, "pinned": 500, "replaced": 500}
