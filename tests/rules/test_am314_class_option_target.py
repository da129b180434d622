"""AM314 and what a loader option naming a class loads: `selectinload(Book.author)` written in one query
loads `author` on that query's Books only. Before, it credited `author` on any Book of the handler (its
own other query's, or one of a query in a helper), so `second.author` passed `check` and raised
MissingGreenlet."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sample import load_module
from sqlalchemy.exc import MissingGreenlet, StatementError
from test_phase2_rules import MODELS

ROUTES = '''
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Load, joinedload, selectinload

from models import Book


async def optioned(db: AsyncSession, book_id: int) -> Book:
    return (await db.scalars(select(Book).where(Book.id == book_id).options(joinedload(Book.author)))).one()


@router.get("/same")
async def same(db: AsyncSession):
    book = (await db.scalars(select(Book).where(Book.id == 1).options(selectinload(Book.author)))).one()
    alias = book
    return {"author": alias.author.name}


@router.get("/all")
async def every(db: AsyncSession):
    books = (await db.scalars(select(Book).options(Load(Book).joinedload(Book.author)))).unique().all()
    names = [book.author.name for book in books]
    for book in books:
        names.append(book.author.name)
    return {"names": names}


@router.get("/other-query")
async def other_query(db: AsyncSession):
    first = (await db.scalars(select(Book).where(Book.id == 1).options(selectinload(Book.author)))).one()
    second = (await db.scalars(select(Book).where(Book.id == 2))).one()
    return {"first": first.author.name, "second": second.author.name}


@router.get("/helper-option")
async def helper_option(db: AsyncSession):
    first = await optioned(db, 1)
    second = (await db.scalars(select(Book).where(Book.id == 2))).one()
    return {"first": first.author.name, "second": second.author.name}
'''


@pytest.fixture
def root(app) -> Path:  # type: ignore[no-untyped-def]
    return app(ROUTES, {"models.py": MODELS})


@pytest.mark.parametrize("function", ["other_query", "helper_option"])
def test_a_class_named_option_on_another_query_is_am314(root, findings, function):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "second.author" in found[0]["message"] and "first.author" not in found[0]["message"], found


@pytest.mark.parametrize("function", ["same", "every"])
def test_near_miss_the_objects_of_the_optioned_query(root, findings, function):
    found = findings(root, function)
    assert found == [], found[0]["message"]


@pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited")
def test_the_premise_the_other_query_s_object_raises(tmp_path, monkeypatch):
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
            stmt = select(models.Book).where(models.Book.id == 1).options(selectinload(models.Book.author))
            first = (await db.scalars(stmt)).one()
            second = (await db.scalars(select(models.Book).where(models.Book.id == 2))).one()
            assert first.author.name == "Ann"
            with pytest.raises((MissingGreenlet, StatementError)):
                second.author  # noqa: B018
        await engine.dispose()

    asyncio.run(run())
