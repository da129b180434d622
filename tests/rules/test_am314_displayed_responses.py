"""AM314 on what an `async def` route on an AsyncSession returns as a dict display or a schema it
builds from keywords (`{"items": rows, "total": n}` under `response_model=Page[BookOut]`,
`Page[BookOut](items=rows, total=n)`): each field's value the flow traces to the route's query
is read as the field's model (a type parameter standing for the model the response names), its
relationships and the model code its fields run (`author_name`, a property reading
`self.author`) included. The premise is RUN: each flagged route raises MissingGreenlet, each near
miss answers."""

from __future__ import annotations

import pytest
from sample import async_routes, raised

MODELS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship()

    @property
    def author_name(self) -> str:
        return self.author.name
"""
SCHEMAS = """
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, computed_field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


class AuthorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    author: AuthorOut

    @computed_field
    @property
    def label(self) -> str:
        return self.author.name.upper()


class BookBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    author_name: str
"""
ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book
from schemas import BookBrief, BookOut, Page


@router.get("/dict", response_model=Page[BookOut])
async def dict_page(db: AsyncSession):
    rows = (await db.scalars(select(Book))).all()
    return {"items": rows, "total": len(rows)}


@router.get("/built", response_model=Page[BookOut])
async def built_page(db: AsyncSession):
    rows = (await db.scalars(select(Book))).all()
    page = Page[BookOut](items=rows, total=len(rows))
    return page


@router.get("/brief", response_model=Page[BookBrief])
async def brief_page(db: AsyncSession):
    rows = (await db.scalars(select(Book))).all()
    return {"items": rows, "total": len(rows)}


@router.get("/dict-eager", response_model=Page[BookOut])
async def dict_eager(db: AsyncSession):
    rows = (await db.scalars(select(Book).options(selectinload(Book.author)))).all()
    return {"items": rows, "total": len(rows)}


@router.get("/built-eager", response_model=Page[BookOut])
async def built_eager(db: AsyncSession):
    rows = (await db.scalars(select(Book).options(selectinload(Book.author)))).all()
    return Page[BookOut](items=rows, total=len(rows))


@router.get("/brief-eager", response_model=Page[BookBrief])
async def brief_eager(db: AsyncSession):
    rows = (await db.scalars(select(Book).options(selectinload(Book.author)))).all()
    return {"items": rows, "total": len(rows)}
"""
FLAGGED = ["dict_page", "built_page", "brief_page"]
NEAR_MISSES = ["dict_eager", "built_eager", "brief_eager"]


@pytest.mark.parametrize(("function", "read"), [
    ("dict_page", "BookOut.author (lazy load"),
    ("built_page", "BookOut.author (lazy load"),
    ("brief_page", "BookBrief.author_name (runs Book.author_name, reads author: lazy load"),
])
def test_a_dict_or_built_page_of_unloaded_objects_is_am314(app, findings, function, read):
    found = findings(app(ROUTES, {"models.py": MODELS, "schemas.py": SCHEMAS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert read in found[0]["message"] and "MissingGreenlet" in found[0]["message"], found


@pytest.mark.parametrize("function", NEAR_MISSES)
def test_near_miss_the_query_loads_what_the_page_reads(app, findings, function):
    assert findings(app(ROUTES, {"models.py": MODELS, "schemas.py": SCHEMAS}), function) == []


def test_the_premise_flagged_routes_raise_and_near_misses_answer(tmp_path):
    def seed(models):  # type: ignore[no-untyped-def]
        return [models.Book(id=1, title="t", author=models.Author(id=1, name="ann"))]

    paths = {"dict_page": "/dict", "built_page": "/built", "brief_page": "/brief",
             "dict_eager": "/dict-eager", "built_eager": "/built-eager", "brief_eager": "/brief-eager"}
    modules = {"models": MODELS, "schemas": SCHEMAS}
    with async_routes(tmp_path, modules, ROUTES, seed, raise_server_exceptions=True) as client:
        answers = {name: client.get(paths[name]) for name in NEAR_MISSES}
        failures = {name: raised(client, paths[name]) for name in FLAGGED}
    assert failures == dict.fromkeys(FLAGGED, "MissingGreenlet")
    assert [answers[name].json()["items"][0] for name in NEAR_MISSES] == [
        {"id": 1, "author": {"name": "ann"}, "label": "ANN"},
        {"id": 1, "author": {"name": "ann"}, "label": "ANN"},
        {"id": 1, "author_name": "ann"},
    ]
