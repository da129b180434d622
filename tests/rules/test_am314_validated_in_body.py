"""AM314 through a schema validated in the route's body: `PostOut.model_validate(post)` (or a
TypeAdapter's `validate_python`) on what the route's AsyncSession loaded reads every field there,
on the event loop, `PostOut.comments` included; no query loaded it, so the lazy load raises
MissingGreenlet. `check` judged only the response model FastAPI serialises and cleared such a route.
A query loading it, or a refresh of it before the line, clears it; a refresh after does not. The
premise test runs the routes on aiosqlite."""

from __future__ import annotations

import pytest
from sample import async_routes

BLOG = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    comments: Mapped[list["Comment"]] = relationship(back_populates="post")


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str]
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    post: Mapped[Post] = relationship(back_populates="comments")
"""
SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    body: str


class PostOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    comments: list[CommentOut]


class PostTitle(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
"""
ROUTES = """
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from blog import Post
from blog_schemas import PostOut, PostTitle


@router.get("/validated")
async def validated(db: AsyncSession):
    post = await db.get(Post, 1)
    return PostOut.model_validate(post).model_dump()


@router.get("/adapted")
async def adapted(db: AsyncSession):
    posts = (await db.scalars(select(Post))).all()
    return TypeAdapter(list[PostOut]).validate_python(posts)


@router.get("/refreshed_after")
async def refreshed_after(db: AsyncSession):
    post = await db.get(Post, 1)
    out = PostOut.model_validate(post)
    await db.refresh(post, attribute_names=["comments"])
    return out.model_dump()


@router.get("/eager")
async def eager(db: AsyncSession):
    post = await db.get(Post, 1, options=[selectinload(Post.comments)])
    return PostOut.model_validate(post).model_dump()


@router.get("/refreshed")
async def refreshed(db: AsyncSession):
    post = await db.get(Post, 1)
    await db.refresh(post, attribute_names=["comments"])
    return PostOut.model_validate(post).model_dump()


@router.get("/titled")
async def titled(db: AsyncSession):
    post = await db.get(Post, 1)
    return PostTitle.model_validate(post).model_dump()
"""
FILES = {"blog.py": BLOG, "blog_schemas.py": SCHEMAS}


@pytest.mark.parametrize("function", ["validated", "adapted", "refreshed_after"])
def test_a_schema_validated_in_the_body_reading_an_unloaded_relationship_is_am314(app, findings, function):
    found = findings(app(ROUTES, FILES), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "PostOut.comments (lazy load when validated at line" in found[0]["message"], found[0]["message"]


@pytest.mark.parametrize("function", ["eager", "refreshed", "titled"])
def test_near_miss_loaded_by_the_query_refreshed_before_or_columns_only_is_clean(app, findings, function):
    assert findings(app(ROUTES, FILES), function) == []


def test_the_premise_validating_raises_unless_the_relationship_is_loaded_first(tmp_path):
    def seed(blog):  # type: ignore[no-untyped-def]
        post = blog.Post(id=1, title="a")
        return [post, blog.Comment(id=1, body="c", post=post)]

    with async_routes(tmp_path, {"blog": BLOG, "blog_schemas": SCHEMAS}, ROUTES, seed) as client:
        codes = {path: client.get(f"/{path}").status_code for path in ("validated", "adapted", "eager", "refreshed")}
    assert codes == {"validated": 500, "adapted": 500, "eager": 200, "refreshed": 200}
