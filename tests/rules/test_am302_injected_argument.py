"""AM302 mixed-session beside a decorator that puts its own argument first: `@inject_db` whose
wrapper runs `fn(provide_db(), *args, **kwargs)` (or a class whose `__call__` does) hands the
caller's first positional argument to the helper's second parameter. `write(session, title)` on
`async def write(db: Interface, session: AsyncSession, title)` gives the Session to `session`,
not to `db`, so `db.Item(...)` (the interface's model class) is no method called on a Session."""

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
INJECTION = """
import functools

from models import Book


class Interface:
    @property
    def Item(self):
        return Book


def provide_db():
    return Interface()


def inject_db(fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        return await fn(provide_db(), *args, **kwargs)

    return wrapper


class Injector:
    def __init__(self, fn):
        self._fn = fn

    def __call__(self, *args, **kwargs):
        fn = self._fn
        return fn(provide_db(), *args, **kwargs)


def db_injector(fn):
    return Injector(fn)


def passing(fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        return await fn(*args, **kwargs)

    return wrapper
"""
HELPERS = """
from sqlalchemy.ext.asyncio import AsyncSession

from db.injection import Interface, db_injector, inject_db, passing


@inject_db
async def write(db: Interface, session: AsyncSession, title: str):
    session.add(db.Item(title=title, author_id=1))
    await session.flush()


@db_injector
async def write_through_class(db: Interface, session: AsyncSession, title: str):
    session.add(db.Item(title=title, author_id=1))
    await session.flush()


@inject_db
async def legacy(db: Interface, session: AsyncSession):
    return session.query(db.Item).count()


@passing
async def passed(db, title: str):
    return db.query(title).count()
"""
ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from db.asyncs import get_async_db
from services.books import legacy, passed, write, write_through_class


@router.post("/function")
async def function(db: AsyncSession = Depends(get_async_db)):
    await write(db, "x")


@router.post("/class")
async def through_class(db: AsyncSession = Depends(get_async_db)):
    await write_through_class(db, "x")


@router.get("/legacy")
async def still_legacy(db: AsyncSession = Depends(get_async_db)):
    return {"n": await legacy(db)}


@router.get("/passed")
async def still_passed(db: AsyncSession = Depends(get_async_db)):
    return {"n": await passed(db, "x")}
"""
FILES = {
    "db/asyncs.py": ASYNC_ENGINE,
    "db/injection.py": INJECTION,
    "services/__init__.py": "",
    "services/books.py": HELPERS,
    "models.py": MODELS,
}


@pytest.mark.parametrize("route", ["function", "through_class"])
def test_the_injected_parameter_is_not_the_callers_session(app, findings, route):
    found = findings(app(ROUTES, FILES), route)
    assert [f["code"] for f in found if f["code"] == "AM302"] == [], found


@pytest.mark.parametrize(
    ("route", "shown"),
    [
        # the Session reaches `session` past the injected argument, and that one still misuses it
        ("still_legacy", "session.query() in services.books.legacy"),
        # a wrapper putting nothing first hands the caller's first argument to the first parameter
        ("still_passed", "db.query() in services.books.passed"),
    ],
)
def test_near_miss_the_session_is_still_followed(app, findings, route, shown):
    found = findings(app(ROUTES, FILES), route)
    assert [f["code"] for f in found if f["code"] == "AM302"] == ["AM302"], found
    assert shown in found[[f["code"] for f in found].index("AM302")]["message"], found
