"""AM314 on a relationship read on what an awaited project method returns: `team = await
repo.get(db, id)` then `team.members`. `check` followed a module-level coroutine handed the
AsyncSession (`await fetch_book(db, id)`) to its query, and `await db.get(Book, id)` itself, but
not a method (a repository handed the AsyncSession, one holding it as `self.session`, a generic
CRUD instance's `db.get(self.model, id)`): the read raised MissingGreenlet and `check` said no
findings. A method whose query eager-loads the relationship, and a column read, are no finding."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS

ROUTES = """
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book

T = TypeVar("T")


class CRUDBase(Generic[T]):
    def __init__(self, model: type[T]):
        self.model = model

    async def get(self, db: AsyncSession, obj_id: int):
        return await db.get(self.model, obj_id)


crud_book = CRUDBase(Book)


class BookRepo:
    async def get(self, db: AsyncSession, book_id: int):
        return await db.get(Book, book_id)

    async def get_loaded(self, db: AsyncSession, book_id: int):
        return await db.scalar(select(Book).where(Book.id == book_id).options(selectinload(Book.author)))


repo = BookRepo()


class BookStore:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, book_id: int):
        return await self.session.get(Book, book_id)


@router.get("/repository/{book_id}")
async def repository(book_id: int, db: AsyncSession):
    book = await repo.get(db, book_id)
    return {"author": book.author.name}


@router.get("/crud/{book_id}")
async def crud(book_id: int, db: AsyncSession):
    book = await crud_book.get(db, book_id)
    return {"author": book.author.name}


@router.get("/held/{book_id}")
async def held(book_id: int, db: AsyncSession):
    book = await BookStore(db).get(book_id)
    return {"author": book.author.name}


@router.get("/loaded/{book_id}")
async def loaded(book_id: int, db: AsyncSession):
    book = await repo.get_loaded(db, book_id)
    return {"author": book.author.name}


@router.get("/guarded/{book_id}")
async def guarded(book_id: int, db: AsyncSession):
    book = await repo.get(db, book_id)
    if book is not None:
        await db.refresh(book, attribute_names=["author"])
    return {"author": book.author.name}


@router.get("/flagged/{book_id}")
async def flagged(book_id: int, db: AsyncSession, fresh: bool = False):
    book = await repo.get(db, book_id)
    if fresh:
        await db.refresh(book, attribute_names=["author"])
    return {"author": book.author.name}


@router.get("/column/{book_id}")
async def column(book_id: int, db: AsyncSession):
    book = await repo.get(db, book_id)
    return {"title": book.title}
"""


@pytest.mark.parametrize("function", ["repository", "crud", "held", "flagged"])
def test_a_relationship_read_on_what_an_awaited_method_returns_is_am314(app, findings, function):
    found = findings(app(ROUTES, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "book.author (lazy load), its Book from a query of a coroutine it awaits" in found[0]["message"], found


# `guarded`: the refresh skips only when there is no object, whose attributes nothing reads then
# (phase two writes it so after a CRUD twin's get).
@pytest.mark.parametrize("function", ["loaded", "column", "guarded"])
def test_near_miss_an_eager_loading_method_or_a_column_read_is_no_finding(app, findings, function):
    assert findings(app(ROUTES, {"models.py": MODELS}), function) == []
