"""AM302 mixed-session: a method AsyncSession does not have (`query`, the legacy bulk methods)
called on an AsyncSession, whether the handler is given it, opens it (`async with maker() as s`,
`maker.begin()`, `AsyncSession(engine)`, `s = maker()`) or hands it to an `async def` helper that
calls it: AttributeError when it runs."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS

ASYNC_ENGINE = """
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from db.custom import CustomAsyncSession

async_engine = create_async_engine("sqlite+aiosqlite://")
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)
CustomSessionLocal = async_sessionmaker(async_engine, class_=CustomAsyncSession)


async def get_async_db():
    async with AsyncSessionLocal() as session:
        yield session
"""
CUSTOM = """
from sqlalchemy.ext.asyncio import AsyncSession


class CustomAsyncSession(AsyncSession):
    def query(self, *entities):
        return entities
"""
HELPERS = """
from sqlalchemy.ext.asyncio import AsyncSession

from models import Book


async def count_books(db):
    return db.query(Book).count()


async def save_all(db, books):
    db.bulk_save_objects(books)
    await db.commit()


class BookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(self) -> int:
        return self.session.query(Book).count()
"""
ROUTES = """
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.asyncs import AsyncSessionLocal, CustomSessionLocal, async_engine, get_async_db
from models import Book
from services.books import BookRepository, count_books, save_all


@router.get("/given")
async def given(db=Depends(get_async_db)):
    return db.query(Book).all()


@router.get("/opened")
async def opened():
    async with AsyncSessionLocal() as db:
        return db.query(Book).all()


@router.get("/begun")
async def begun():
    async with AsyncSessionLocal.begin() as db:
        return db.query(Book).all()


@router.get("/constructed")
async def constructed():
    db = AsyncSession(async_engine)
    return db.query(Book).all()


@router.get("/helper")
async def helper():
    async with AsyncSessionLocal() as db:
        return {"n": await count_books(db)}


@router.post("/bulk")
async def bulk(db: AsyncSession = Depends(get_async_db)):
    await save_all(db, [Book(title="x", author_id=1)])


@router.get("/repository")
async def repository(db: AsyncSession = Depends(get_async_db)):
    return {"n": await BookRepository(db).count()}


@router.get("/fine")
async def fine(db: AsyncSession = Depends(get_async_db)):
    db.add(Book(title="x", author_id=1))
    await db.flush()
    return (await db.scalars(select(Book))).all()


@router.get("/custom")
async def custom():
    async with CustomSessionLocal() as db:
        return db.query(Book)
"""
FILES = {
    "db/asyncs.py": ASYNC_ENGINE,
    "db/custom.py": CUSTOM,
    "services/__init__.py": "",
    "services/books.py": HELPERS,
    "models.py": MODELS,
}


@pytest.mark.parametrize(
    ("route", "shown"),
    [
        ("given", "line 19 (db.query())"),
        ("opened", "line 25 (db.query())"),
        ("begun", "line 31 (db.query())"),
        ("constructed", "line 37 (db.query())"),
        ("helper", "services/books.py:7 (db.query() in services.books.count_books)"),
        ("bulk", "services/books.py:11 (db.bulk_save_objects() in services.books.save_all)"),
        ("repository", "services/books.py:20 (self.session.query() in services.books.BookRepository.count)"),
    ],
)
def test_a_method_async_session_does_not_have_is_am302(app, findings, route, shown):
    found = findings(app(ROUTES, FILES), route)
    assert [f["code"] for f in found] == ["AM302"], found
    message = found[0]["message"]
    assert "calls a method AsyncSession does not have at" in message and shown in message, found
    assert "AttributeError" in message, found


def test_near_miss_awaited_async_session_methods_and_a_subclass_maker(app, findings):
    root = app(ROUTES, FILES)
    assert findings(root, "fine") == []
    # `async_sessionmaker(class_=CustomAsyncSession)` may make a Session that has the method
    assert findings(root, "custom") == []


ENTERED = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from db.asyncs import AsyncSessionLocal, get_async_db
from models import Book


async def add_in(db, title):
    with db.begin_nested():
        db.add(Book(title=title, author_id=1))


@router.post("/begin")
async def begin(db: AsyncSession = Depends(get_async_db)):
    with db.begin():
        db.add(Book(title="x", author_id=1))


@router.post("/helper")
async def helper():
    async with AsyncSessionLocal() as db:
        await add_in(db, "x")
        await db.commit()


@router.post("/whole")
async def whole():
    db = AsyncSessionLocal()
    with db:
        db.add(Book(title="x", author_id=1))


@router.post("/fine")
async def fine(db: AsyncSession = Depends(get_async_db)):
    async with db.begin():
        db.add(Book(title="x", author_id=1))
"""


@pytest.mark.parametrize(
    ("route", "shown"),
    [
        ("begin", "line 22 (with db.begin())"),
        ("helper", "api/items.py:16 (with db.begin_nested() in api.items.add_in)"),
        ("whole", "line 36 (with db)"),
    ],
)
def test_a_plain_with_on_an_async_session_or_its_transaction_is_am302(app, findings, route, shown):
    found = findings(app(ENTERED, FILES), route)
    assert [f["code"] for f in found] == ["AM302"], found
    message = found[0]["message"]
    assert "with a plain `with` at" in message and shown in message, message
    assert "write `async with`" in message, message


def test_near_miss_async_with_on_its_transaction(app, findings):
    assert findings(app(ENTERED, FILES), "fine") == []


def test_the_premise_a_plain_with_on_an_async_session_raises():
    import asyncio

    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    async def enter() -> list[str]:
        raised = []
        async with AsyncSession(create_async_engine("sqlite+aiosqlite://")) as db:
            for opened in (db.begin, db.begin_nested, lambda: db):
                try:
                    with opened():  # type: ignore[attr-defined]
                        pass
                except TypeError:
                    raised.append("TypeError")
        return raised

    assert asyncio.run(enter()) == ["TypeError"] * 3


EXEC = """
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.asyncs import get_async_db
from models import Book


@router.get("/exec")
async def exec_(db: AsyncSession = Depends(get_async_db)):
    return (await db.exec(select(Book))).all()
"""
SQLMODEL_SESSION = """
from sqlmodel.ext.asyncio.session import AsyncSession as SQLModelAsyncSession

__all__ = ["SQLModelAsyncSession"]
"""


def test_sqlmodels_exec_on_sqlalchemys_async_session_is_am302(app, findings):
    found = findings(app(EXEC, FILES), "exec_")
    assert [f["code"] for f in found] == ["AM302"], found
    assert "line 18 (db.exec())" in found[0]["message"], found


def test_near_miss_exec_where_the_project_uses_sqlmodels_async_session(app, findings):
    # which of the two an annotation's Session really is, the maker decides: not judged
    assert findings(app(EXEC, {**FILES, "db/sqlmodel_session.py": SQLMODEL_SESSION}), "exec_") == []


def test_the_premise_exec_is_sqlmodels_alone():
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlmodel.ext.asyncio.session import AsyncSession as SQLModelAsyncSession

    assert not hasattr(AsyncSession, "exec") and hasattr(SQLModelAsyncSession, "exec")
