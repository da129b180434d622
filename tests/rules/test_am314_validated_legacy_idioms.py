"""AM314 on a validation in a route's body (`test_am314_validated_in_body.py`), in a codebase
written the SQLAlchemy 1.4 way (`declarative_base()`, `Column`, `backref=`) with pydantic 1 idioms
(`class Config`, `Out.from_orm(obj)`): an `async def` route on an AsyncSession validating an object
its query gave (`AuthorOut.from_orm(author)`, `AuthorOut.model_validate(author)`,
`TypeAdapter(List[AuthorOut]).validate_python(authors)`, in a comprehension too) reads every field
by name on the event loop, so a relationship no query loads (a backref declared on the other
class, one a property a field names reads) lazy-loads there. The premise is RUN: each flagged
route raises MissingGreenlet, each near miss answers."""

from __future__ import annotations

import warnings

import pytest
from sample import async_routes, raised

MODELS = """
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Author(Base):
    __tablename__ = "authors"
    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)


class Book(Base):
    __tablename__ = "books"
    id = Column(Integer, primary_key=True)
    title = Column(String(50), nullable=False)
    author_id = Column(Integer, ForeignKey("authors.id"), nullable=False)
    author = relationship("Author", backref="books")

    @property
    def author_name(self):
        return self.author.name
"""
SCHEMAS = """
from typing import List

from pydantic import BaseModel


class BookOut(BaseModel):
    id: int
    title: str

    class Config:
        from_attributes = True


class AuthorOut(BaseModel):
    id: int
    name: str
    books: List[BookOut] = []

    class Config:
        from_attributes = True


class BookBrief(BaseModel):
    id: int
    author_name: str

    class Config:
        from_attributes = True
"""
ROUTES = """
from typing import List

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Author, Book
from schemas import AuthorOut, BookBrief


@router.get("/got")
async def got(db: AsyncSession):
    author = await db.get(Author, 1)
    return {"author": AuthorOut.from_orm(author).dict()}


@router.get("/first")
async def first(db: AsyncSession):
    author = (await db.scalars(select(Author).where(Author.id == 1))).first()
    return AuthorOut.model_validate(author)


@router.get("/briefs")
async def briefs(db: AsyncSession):
    rows = (await db.scalars(select(Book))).all()
    return [BookBrief.from_orm(b).dict() for b in rows]


@router.get("/adapted")
async def adapted(db: AsyncSession):
    authors = (await db.scalars(select(Author))).all()
    return TypeAdapter(List[AuthorOut]).validate_python(authors)


@router.get("/got-eager")
async def got_eager(db: AsyncSession):
    author = await db.get(Author, 1, options=[selectinload(Author.books)])
    return {"author": AuthorOut.from_orm(author).dict()}


@router.get("/first-eager")
async def first_eager(db: AsyncSession):
    author = (await db.scalars(select(Author).options(selectinload(Author.books)).where(Author.id == 1))).first()
    return AuthorOut.model_validate(author)


@router.get("/briefs-eager")
async def briefs_eager(db: AsyncSession):
    rows = (await db.scalars(select(Book).options(selectinload(Book.author)))).all()
    return [BookBrief.from_orm(b).dict() for b in rows]


@router.get("/refreshed")
async def refreshed(db: AsyncSession):
    author = await db.get(Author, 1)
    await db.refresh(author, ["books"])
    return {"author": AuthorOut.from_orm(author).dict()}
"""
FLAGGED = ["got", "first", "briefs", "adapted"]
NEAR_MISSES = ["got_eager", "first_eager", "briefs_eager", "refreshed"]
PATHS = {
    "got": "/got", "first": "/first", "briefs": "/briefs", "adapted": "/adapted", "got_eager": "/got-eager",
    "first_eager": "/first-eager", "briefs_eager": "/briefs-eager", "refreshed": "/refreshed",
}


@pytest.mark.parametrize(("function", "read"), [
    ("got", "AuthorOut.books (lazy load when validated at line 22)"),
    ("first", "AuthorOut.books (lazy load when validated at line 28)"),
    ("briefs", "BookBrief.author_name (runs Book.author_name, reads author: lazy load when validated at line 34)"),
    ("adapted", "AuthorOut.books (lazy load when validated at line 40)"),
])
def test_a_validation_in_the_body_of_unloaded_objects_is_am314(app, findings, function, read):
    found = findings(app(ROUTES, {"models.py": MODELS, "schemas.py": SCHEMAS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert read in found[0]["message"] and "MissingGreenlet" in found[0]["message"], found


@pytest.mark.parametrize("function", NEAR_MISSES)
def test_near_miss_the_query_or_a_refresh_loads_what_the_validation_reads(app, findings, function):
    assert findings(app(ROUTES, {"models.py": MODELS, "schemas.py": SCHEMAS}), function) == []


def test_the_premise_flagged_routes_raise_and_near_misses_answer(tmp_path):
    def seed(models):  # type: ignore[no-untyped-def]
        return [models.Book(id=1, title="t", author=models.Author(id=1, name="ann"))]

    modules = {"models": MODELS, "schemas": SCHEMAS}
    with warnings.catch_warnings(), async_routes(tmp_path, modules, ROUTES, seed, raise_server_exceptions=True) as client:
        warnings.simplefilter("ignore", DeprecationWarning)  # `from_orm` and `.dict()`: pydantic 1 idioms
        answers = {name: client.get(PATHS[name]) for name in NEAR_MISSES}
        failures = {name: raised(client, PATHS[name]) for name in FLAGGED}
    assert failures == dict.fromkeys(FLAGGED, "MissingGreenlet")
    author = {"id": 1, "name": "ann", "books": [{"id": 1, "title": "t"}]}
    assert [answers[name].json() for name in NEAR_MISSES] == [
        {"author": author}, author, [{"id": 1, "author_name": "ann"}], {"author": author},
    ]
