"""AM311 unawaited-coroutine: AsyncSession coroutine methods called without `await` on an
AsyncSession the handler opens (`async with maker() as s`, `maker.begin()`, `s = maker()`,
`AsyncSession(engine)`, `await stack.enter_async_context(maker())`) or gets from an unannotated
async dependency, and in an unannotated `async def` helper it hands the AsyncSession to: the
coroutine never runs, nothing is written."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS

ASYNC_ENGINE = """
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

async_engine = create_async_engine("sqlite+aiosqlite://")
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db():
    async with AsyncSessionLocal() as session:
        yield session
"""
HELPERS = """
from models import Book


async def add_book(db, title):
    db.add(Book(title=title, author_id=1))
    db.commit()


async def add_book_awaited(db, title):
    db.add(Book(title=title, author_id=1))
    await db.commit()


async def forward(session, title):
    await add_book(session, title)
"""
ROUTES = """
import contextlib

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.asyncs import AsyncSessionLocal, async_engine, get_async_db
from models import Book
from services.books import add_book, add_book_awaited, forward


@router.post("/opened")
async def opened():
    async with AsyncSessionLocal() as db:
        db.add(Book(title="x", author_id=1))
        db.commit()


@router.post("/begun")
async def begun():
    async with AsyncSessionLocal.begin() as db:
        db.execute(select(Book))


@router.post("/assigned")
async def assigned():
    db = AsyncSessionLocal()
    db.add(Book(title="x", author_id=1))
    db.flush()
    await db.close()


@router.post("/constructed")
async def constructed():
    async with AsyncSession(async_engine) as db:
        db.get(Book, 1)


@router.post("/stack")
async def stack_entered():
    async with contextlib.AsyncExitStack() as stack:
        db = await stack.enter_async_context(AsyncSessionLocal())
        db.refresh(Book())


@router.post("/dependency")
async def dependency(db=Depends(get_async_db)):
    db.scalars(select(Book))


@router.post("/helper")
async def helper():
    async with AsyncSessionLocal() as db:
        await add_book(db, "x")


@router.post("/deeper")
async def deeper(db: AsyncSession = Depends(get_async_db)):
    await forward(db, "x")


@router.post("/fine")
async def fine():
    async with AsyncSessionLocal() as db:
        db.add(Book(title="x", author_id=1))
        await db.commit()
        await add_book_awaited(db, "y")
"""
FILES = {"db/asyncs.py": ASYNC_ENGINE, "services/__init__.py": "", "services/books.py": HELPERS, "models.py": MODELS}


@pytest.mark.parametrize(
    ("route", "shown"),
    [
        ("opened", "line 23 (db.commit())"),
        ("begun", "line 29 (db.execute())"),
        ("assigned", "line 36 (db.flush())"),
        ("constructed", "line 43 (db.get())"),
        ("stack_entered", "line 50 (db.refresh())"),
        ("dependency", "line 55 (db.scalars())"),
        ("helper", "services/books.py:6 (db.commit() in services.books.add_book)"),
        ("deeper", "services/books.py:6 (db.commit() in services.books.add_book)"),
    ],
)
def test_an_unawaited_method_of_an_opened_or_handed_async_session_is_am311(app, findings, route, shown):
    found = findings(app(ROUTES, FILES), route)
    assert [f["code"] for f in found] == ["AM311"], found
    assert shown in found[0]["message"], found


def test_near_miss_awaited_on_the_opened_session_and_in_the_helper(app, findings):
    assert findings(app(ROUTES, FILES), "fine") == []
