"""AM301 blocking-session: SQLAlchemy 1.4's async sessionmaker, `sessionmaker(async_engine,
class_=AsyncSession)`, makes AsyncSessions, as `async_sessionmaker(...)` does: a dependency or
an `asynccontextmanager` opening one, directly or through a name bound to the maker (annotated
`Callable[[], AsyncSession]`, bound again under an `if`), does no synchronous Session work. A
`class_=` naming a synchronous Session, a subclass of one, or a class the analysis cannot read
keeps the maker synchronous: its work is still reported."""

from __future__ import annotations

ASYNC_DB = """\
import os
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

async_engine = create_async_engine("sqlite+aiosqlite:///./app.db")
async_session_factory = sessionmaker(async_engine, class_=AsyncSession, expire_on_commit=False)
keyword_factory = sessionmaker(bind=async_engine, class_=AsyncSession)
readonly_factory: Callable[[], AsyncSession] = async_session_factory
if os.environ.get("READONLY_URL"):
    readonly_factory = sessionmaker(create_async_engine(os.environ["READONLY_URL"]), class_=AsyncSession)
async_session: Callable[[], AsyncSession] = async_session_factory


class AuditedAsyncSession(AsyncSession):
    pass


audited_factory = sessionmaker(async_engine, class_=AuditedAsyncSession)


async def get_async_db() -> AsyncGenerator:
    async with async_session() as session:
        yield session


async def get_keyword_db() -> AsyncGenerator:
    async with keyword_factory() as session:
        yield session


async def get_audited_db() -> AsyncGenerator:
    async with audited_factory() as session:
        yield session


@asynccontextmanager
async def readonly_session() -> AsyncGenerator[Any, Any]:
    session = readonly_factory()
    try:
        yield session
        await session.commit()
    except Exception:
        await session.rollback()
        raise
    finally:
        await session.close()
"""

# The same form with a synchronous class: a Session, a project subclass of one, a class from
# outside the project the analysis cannot read.
SYNC_DB = """\
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from vendor.sessions import VendorSession

engine = create_engine("sqlite:///./app.db")


class ExtendedSession(Session):
    pass


plain_factory = sessionmaker(engine, class_=Session)
extended_factory = sessionmaker(engine, class_=ExtendedSession)
vendor_factory = sessionmaker(engine, class_=VendorSession)


async def get_plain_db():
    with plain_factory() as session:
        yield session


async def get_extended_db():
    with extended_factory() as session:
        yield session


async def get_vendor_db():
    with vendor_factory() as session:
        yield session
"""

ROUTES = """
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.async_engine import get_async_db, get_audited_db, get_keyword_db, readonly_session
from db.sync_makers import get_extended_db, get_plain_db, get_vendor_db


@router.get("/async")
async def on_async(db: AsyncSession = Depends(get_async_db)):
    return (await db.scalars(select(1))).all()


@router.get("/keyword")
async def on_keyword(db: AsyncSession = Depends(get_keyword_db)):
    return (await db.scalars(select(1))).all()


@router.get("/audited")
async def on_audited(db: AsyncSession = Depends(get_audited_db)):
    return (await db.scalars(select(1))).all()


@router.get("/readonly")
async def on_readonly():
    async with readonly_session() as db:
        return (await db.scalars(select(1))).all()


@router.get("/plain")
async def on_plain(db=Depends(get_plain_db)):
    return db.scalars(select(1)).all()


@router.get("/extended")
async def on_extended(db=Depends(get_extended_db)):
    return db.scalars(select(1)).all()


@router.get("/vendor")
async def on_vendor(db=Depends(get_vendor_db)):
    return db.scalars(select(1)).all()
"""

FILES = {"db/async_engine.py": ASYNC_DB, "db/sync_makers.py": SYNC_DB}


def test_a_sessionmaker_of_async_sessions_opens_no_synchronous_session_am301(app, cli):
    document = cli.json("check", app(ROUTES, FILES))
    flagged = {f["function"] for f in document["findings"]}
    for function in ("get_async_db", "get_keyword_db", "get_audited_db", "readonly_session"):
        assert function not in flagged, document["findings"]
    for function in ("on_async", "on_keyword", "on_audited", "on_readonly"):
        assert function not in flagged, document["findings"]


def test_a_sessionmaker_of_synchronous_or_unread_sessions_is_still_reported_am301(app, findings):
    root = app(ROUTES, FILES)
    for route in ("on_plain", "on_extended", "on_vendor"):
        found = findings(root, route)
        assert "AM301" in [f["code"] for f in found], (route, found)
