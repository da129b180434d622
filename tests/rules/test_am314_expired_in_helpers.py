"""AM314 through the project functions a handler hands its expired objects to.

`author = Author(name=n); db.add(author); await db.commit(); return summarize(author)` with `def
summarize(a): return {"id": a.id}`, on a hand-made `async_sessionmaker(engine)` (which expires on
commit): the helper's read refreshes the row, outside any greenlet, so it raises MissingGreenlet.
`check` read only the handler's own body and said "no findings". It follows the built and loaded
objects into the helpers (sync or async, methods, helpers of helpers) now; a helper from a project
module the analysis cannot read, or a method a project class inherits from a library
(`AuthorOut.model_validate(author)`), is unverified, never passed. So is the response model
reading the expired object a route returns (`return author` under `response_model=AuthorOut`)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import MissingGreenlet, StatementError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from test_phase2_rules import MODELS, SCHEMAS

HELPERS = '''
def summarize(a):
    return {"id": a.id, "name": a.name}


async def describe(a):
    return a.name


def outer(a):
    return inner(a)


def inner(x):
    return getattr(x, "name")


def tag(a):
    return "author"


class Formatter:
    def fmt(self, a):
        return a.name
'''
ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from core.broken import listed
from core.formatting import shown
from helpers import Formatter, describe, outer, summarize, tag
from models import Author
from schemas import AuthorOut

engine = create_async_engine("sqlite+aiosqlite://")
Expiring = async_sessionmaker(engine)
Kept = async_sessionmaker(engine, expire_on_commit=False)


async def get_expiring():
    async with Expiring() as session:
        yield session


async def get_kept():
    async with Kept() as session:
        yield session


@router.post("/built")
async def built(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    return summarize(author)


@router.post("/loaded/{author_id}")
async def loaded(author_id: int, db: AsyncSession = Depends(get_expiring)):
    author = await db.get(Author, author_id)
    author.name = "x"
    await db.commit()
    return {"name": await describe(author)}


@router.post("/deeper")
async def deeper(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    return {"name": outer(author)}


@router.post("/method")
async def method(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    formatter = Formatter()
    return {"name": formatter.fmt(author)}


@router.post("/twice")
async def twice(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    before = summarize(author)
    await db.commit()
    return [before, summarize(author)]


@router.post("/unread")
async def unread(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    return shown(author)


@router.post("/broken")
async def broken(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    return listed(author)


@router.post("/returned", response_model=AuthorOut)
async def returned(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    return author


@router.post("/validated")
async def validated(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    return AuthorOut.model_validate(author)


@router.post("/returned-refreshed", response_model=AuthorOut)
async def returned_refreshed(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    await db.refresh(author)
    return author


@router.post("/kept")
async def kept(name: str, db: AsyncSession = Depends(get_kept)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    return summarize(author)


@router.post("/refreshed")
async def refreshed(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    await db.refresh(author)
    return summarize(author)


@router.post("/before")
async def before(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    out = summarize(author)
    await db.commit()
    return out


@router.post("/untouched")
async def untouched(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    return {"kind": tag(author)}
"""


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    return app(ROUTES, {"models.py": MODELS, "schemas.py": SCHEMAS, "helpers.py": HELPERS, "core/__init__.py": "",
                        "core/broken.py": "def listed(a):\n    return [a.id\n"})


@pytest.mark.parametrize(
    ("function", "helper", "read"),
    [
        ("built", "helpers.summarize", "a.id"),
        ("loaded", "helpers.describe", "a.name"),
        ("deeper", "helpers.inner", "getattr(x, ...)"),
        ("method", "helpers.Formatter.fmt", "a.name"),
        ("twice", "helpers.summarize", "a.id"),
    ],
)
def test_an_expired_object_handed_to_a_helper_reading_it_is_am314(root, findings, function, helper, read):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} in {helper}" in found[0]["message"] and "expired by the db.commit()" in found[0]["message"], found


def test_an_expired_object_returned_through_a_response_model_is_am314(root, findings):
    found = findings(root, "returned")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "`author` returned, whose fields the response model AuthorOut reads" in found[0]["message"], found


@pytest.mark.parametrize(
    ("function", "helper"),
    [("unread", "core.formatting.shown"), ("broken", "core.broken.listed"), ("validated", "schemas.AuthorOut.model_validate")],
)
def test_an_expired_object_handed_to_a_helper_the_analysis_cannot_read_is_unverified(root, findings, function,
                                                                                      helper):
    found = [f for f in findings(root, function) if f["code"] == "AM314"]  # an unparsable module: AM304 too
    assert len(found) == 1, found
    assert f"handed to {helper}()" in found[0]["message"] and "unverified" in found[0]["message"], found


@pytest.mark.parametrize("function", ["kept", "refreshed", "before", "untouched", "returned_refreshed"])
def test_near_miss_no_expiry_a_refresh_a_call_before_the_commit_or_a_helper_reading_nothing(root, findings,
                                                                                            function):
    assert findings(root, function) == []


@pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited")
def test_the_premise_a_helper_reading_an_expired_object_raises_missing_greenlet():
    from sqlalchemy import Integer, String
    from sqlalchemy.orm import DeclarativeBase, mapped_column

    class Base(DeclarativeBase):
        pass

    class Writer(Base):
        __tablename__ = "writers"
        id = mapped_column(Integer, primary_key=True)
        name = mapped_column(String(20))

    def summarize(w: Writer) -> dict:
        return {"id": w.id, "name": w.name}

    engine = create_async_engine("sqlite+aiosqlite://")

    async def main() -> bool:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with async_sessionmaker(engine)() as session:
            writer = Writer(name="a")
            session.add(writer)
            await session.commit()
            try:
                summarize(writer)
            except StatementError as error:
                return isinstance(error.orig, MissingGreenlet)
            return False

    try:
        assert asyncio.run(main())
    finally:
        asyncio.run(engine.dispose())


@pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited")
def test_the_premise_a_response_model_reading_an_expired_object_raises_missing_greenlet():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from pydantic import BaseModel, ConfigDict
    from sqlalchemy import Integer, String
    from sqlalchemy.orm import DeclarativeBase, mapped_column

    class Base(DeclarativeBase):
        pass

    class Writer(Base):
        __tablename__ = "writers"
        id = mapped_column(Integer, primary_key=True)
        name = mapped_column(String(20))

    class WriterOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        name: str

    from fastapi.exceptions import ResponseValidationError

    engine = create_async_engine("sqlite+aiosqlite://")
    maker = async_sessionmaker(engine)
    app = FastAPI()
    held: list = []

    @app.post("/open", response_model=WriterOut)
    async def create_open():
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        session = maker()
        held.append(session)  # open, as a dependency's Session is while the response is made
        writer = Writer(name="b")
        session.add(writer)
        await session.commit()
        return writer

    try:
        with TestClient(app) as client, pytest.raises(ResponseValidationError) as raised:
            client.post("/open")
        assert "MissingGreenlet" in str(raised.value.errors()), raised.value.errors()
    finally:
        asyncio.run(engine.dispose())
