"""AM314 and what a refresh loads: `await db.refresh(first, attribute_names=["author"])`, `await
first.awaitable_attrs.author` and a wildcard `selectinload("*")` on one query load on that object, or
that query's objects, only. Before, each credited `author` on any object of the handler, so `second
.author` (another Book, loaded by another query) passed `check` and raised MissingGreenlet."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sample import load_module
from sqlalchemy.exc import MissingGreenlet, StatementError
from test_phase2_rules import MODELS as PLAIN_MODELS

# `awaitable_attrs` needs the AsyncAttrs mixin
MODELS = PLAIN_MODELS.replace(
    "from sqlalchemy.orm import", "from sqlalchemy.ext.asyncio import AsyncAttrs\nfrom sqlalchemy.orm import"
).replace("class Base(DeclarativeBase):", "class Base(AsyncAttrs, DeclarativeBase):")

ROUTES = '''
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


async def fetch(db: AsyncSession, book_id: int) -> Book:
    book = await db.get(Book, book_id)
    await db.refresh(book, attribute_names=["author"])
    return book


async def plain(db: AsyncSession, book_id: int) -> Book:
    return await db.get(Book, book_id)


@router.get("/same")
async def same(db: AsyncSession):
    book = await db.get(Book, 1)
    await db.refresh(book, attribute_names=["author"])
    return {"author": book.author.name}


@router.get("/attrs")
async def attrs(db: AsyncSession):
    book = await db.get(Book, 1)
    author = await book.awaitable_attrs.author
    return {"author": author.name, "again": book.author.name}


@router.get("/helper")
async def helper(db: AsyncSession):
    book = await fetch(db, 1)
    return {"author": book.author.name}


@router.get("/wildcard")
async def wildcard(db: AsyncSession):
    book = (await db.scalars(select(Book).where(Book.id == 1).options(selectinload("*")))).one()
    return {"author": book.author.name}


@router.get("/other-refresh")
async def other_refresh(db: AsyncSession):
    first = await db.get(Book, 1)
    second = await db.get(Book, 2)
    await db.refresh(first, attribute_names=["author"])
    return {"first": first.author.name, "second": second.author.name}


@router.get("/other-attrs")
async def other_attrs(db: AsyncSession):
    first = await db.get(Book, 1)
    second = await db.get(Book, 2)
    await first.awaitable_attrs.author
    return {"first": first.author.name, "second": second.author.name}


@router.get("/other-query")
async def other_query(db: AsyncSession):
    first = (await db.scalars(select(Book).where(Book.id == 1).options(selectinload("*")))).one()
    second = (await db.scalars(select(Book).where(Book.id == 2))).one()
    return {"first": first.author.name, "second": second.author.name}


@router.get("/one-helper-two-books")
async def one_helper_two_books(db: AsyncSession):
    first = await plain(db, 1)
    second = await plain(db, 2)
    await db.refresh(first, attribute_names=["author"])
    return {"first": first.author.name, "second": second.author.name}
'''


@pytest.fixture
def root(app) -> Path:  # type: ignore[no-untyped-def]
    return app(ROUTES, {"models.py": MODELS})


@pytest.mark.parametrize("function", ["other_refresh", "other_attrs", "other_query", "one_helper_two_books"])
def test_a_refresh_or_a_wildcard_on_another_object_is_am314(root, findings, function):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "second.author" in found[0]["message"] and "first.author" not in found[0]["message"], found


@pytest.mark.parametrize("function", ["same", "attrs", "helper", "wildcard"])
def test_near_miss_the_object_refreshed_or_loaded_by_its_own_query(root, findings, function):
    found = findings(root, function)
    assert found == [], found[0]["message"]


@pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited")
def test_the_premise_the_other_object_raises_and_the_near_misses_run(tmp_path, monkeypatch):
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.orm import selectinload

    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    models = load_module(tmp_path, "models", MODELS)

    async def run() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/premise.db")
        async with engine.begin() as conn:
            await conn.run_sync(models.Base.metadata.create_all)
        maker = async_sessionmaker(engine, expire_on_commit=False)
        async with maker() as db:
            # two authors: a many-to-one already in the identity map would load without a query
            db.add_all([models.Author(id=1, name="Ann"), models.Author(id=2, name="Bo")])
            db.add_all([models.Book(id=1, title="A", author_id=1), models.Book(id=2, title="B", author_id=2)])
            await db.commit()
        async with maker() as db:
            first, second = await db.get(models.Book, 1), await db.get(models.Book, 2)
            await db.refresh(first, attribute_names=["author"])
            assert first.author.name == "Ann"
            with pytest.raises((MissingGreenlet, StatementError)):
                second.author  # noqa: B018
        async with maker() as db:
            first, second = await db.get(models.Book, 1), await db.get(models.Book, 2)
            assert (await first.awaitable_attrs.author).name == "Ann"
            with pytest.raises((MissingGreenlet, StatementError)):
                second.author  # noqa: B018
        async with maker() as db:
            stmt = select(models.Book).where(models.Book.id == 1).options(selectinload("*"))
            first = (await db.scalars(stmt)).one()
            second = (await db.scalars(select(models.Book).where(models.Book.id == 2))).one()
            assert first.author.name == "Ann"
            with pytest.raises((MissingGreenlet, StatementError)):
                second.author  # noqa: B018
        await engine.dispose()

    asyncio.run(run())
