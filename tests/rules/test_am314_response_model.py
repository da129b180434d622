"""AM314 missing-greenlet through a route's response model: an `async def` route on an
AsyncSession returning objects its query loaded (`return await db.get(Book, 1)`, `(await
db.scalars(stmt)).all()`, a local bound to either) under `response_model=BookOut`, or a return
annotation, whose field `author` names a relationship nothing loads. FastAPI reads it by name
while serialising, on the event loop, and the lazy load raises MissingGreenlet; `check` said
nothing of it."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS, SCHEMAS

ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book
from schemas import BookOut


@router.get("/got", response_model=BookOut)
async def got(db: AsyncSession):
    return await db.get(Book, 1)


@router.get("/listed", response_model=list[BookOut])
async def listed(db: AsyncSession):
    return (await db.scalars(select(Book))).all()


@router.get("/held", response_model=list[BookOut])
async def held(db: AsyncSession):
    books = (await db.scalars(select(Book).where(Book.id > 0))).all()
    return books


@router.get("/annotated")
async def annotated(db: AsyncSession) -> BookOut:
    return await db.get(Book, 1)


@router.get("/eager", response_model=list[BookOut])
async def eager(db: AsyncSession):
    return (await db.scalars(select(Book).options(selectinload(Book.author)))).all()


@router.get("/got_eager", response_model=BookOut)
async def got_eager(db: AsyncSession):
    return await db.get(Book, 1, options=[selectinload(Book.author)])


@router.get("/refreshed", response_model=BookOut)
async def refreshed(db: AsyncSession):
    book = await db.get(Book, 1)
    await db.refresh(book, attribute_names=["author"])
    return book


@router.get("/refreshed_other", response_model=list[BookOut])
async def refreshed_other(db: AsyncSession):
    books = (await db.scalars(select(Book))).all()
    first = books[0]
    await db.refresh(first, attribute_names=["author"])
    return books


@router.get("/built", response_model=list[BookOut])
async def built(db: AsyncSession):
    books = (await db.scalars(select(Book))).all()
    return [BookOut(id=b.id, title=b.title, author={"name": "x"}) for b in books]


@router.get("/untyped")
async def untyped(db: AsyncSession):
    return await db.get(Book, 1)
"""


@pytest.mark.parametrize("function", ["got", "listed", "held", "annotated", "refreshed_other"])
def test_a_response_model_field_lazy_loading_on_a_queried_object_is_am314(app, findings, function):
    found = findings(app(ROUTES, {"models.py": MODELS, "schemas.py": SCHEMAS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "BookOut.author (lazy load while the response is serialised)" in found[0]["message"], found


@pytest.mark.parametrize("function", ["eager", "got_eager", "refreshed", "built", "untyped"])
def test_near_miss_an_eager_loaded_refreshed_or_unserialised_relationship_is_no_finding(app, findings, function):
    assert findings(app(ROUTES, {"models.py": MODELS, "schemas.py": SCHEMAS}), function) == []


NESTED_MODELS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    books: Mapped[list["Book"]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")
"""

NESTED_SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class BookBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str


class AuthorWithBooks(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    books: list[BookBrief]


class BookDeep(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str
    author: AuthorWithBooks
"""

NESTED = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Author, Book
from schemas import BookDeep


@router.get("/one_step", response_model=list[BookDeep])
async def one_step(db: AsyncSession):
    return (await db.scalars(select(Book).options(selectinload(Book.author)))).all()


@router.get("/chained", response_model=list[BookDeep])
async def chained(db: AsyncSession):
    stmt = select(Book).options(selectinload(Book.author).selectinload(Author.books))
    return (await db.scalars(stmt)).all()
"""


def test_a_nested_field_below_a_loaded_relationship_is_am314_along_its_path(app, findings):
    found = findings(app(NESTED, {"models.py": NESTED_MODELS, "schemas.py": NESTED_SCHEMAS}), "one_step")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "BookDeep.author.books (lazy load while the response is serialised), on the Author" in found[0]["message"]
    assert "BookDeep.author (" not in found[0]["message"], found


def test_near_miss_the_option_chained_along_the_path_is_no_finding(app, findings):
    assert findings(app(NESTED, {"models.py": NESTED_MODELS, "schemas.py": NESTED_SCHEMAS}), "chained") == []


PAGED = """
from fastapi_pagination import Page
from fastapi_pagination.ext.sqlalchemy import apaginate
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book
from schemas import BookOut


@router.get("/paged", response_model=Page[BookOut])
async def paged(db: AsyncSession):
    return await apaginate(db, select(Book).order_by(Book.id))


@router.get("/paged_bound", response_model=Page[BookOut])
async def paged_bound(db: AsyncSession):
    page = await apaginate(db, query=select(Book))
    return page


@router.get("/paged_eager", response_model=Page[BookOut])
async def paged_eager(db: AsyncSession):
    return await apaginate(db, select(Book).options(selectinload(Book.author)))
"""


@pytest.mark.parametrize("function", ["paged", "paged_bound"])
def test_a_page_of_a_paginated_select_lazy_loading_in_its_item_model_is_am314(app, findings, function):
    # `apaginate(db, select(Book))` under `Page[BookOut]`: the page's items are the select's Books,
    # each validated as BookOut, reading `author`. `check` said nothing: the page was untraced.
    found = findings(app(PAGED, {"models.py": MODELS, "schemas.py": SCHEMAS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "BookOut.author (lazy load while the response is serialised)" in found[0]["message"], found


def test_near_miss_the_paginated_select_eager_loading_it_is_no_finding(app, findings):
    assert findings(app(PAGED, {"models.py": MODELS, "schemas.py": SCHEMAS}), "paged_eager") == []
