"""AM304 on what describes a database: `log.info("db %s", engine.url.database)` read the
argument as a value named like a Session (`database`) that the analysis cannot type, handed on,
so an `async def` route reading its engine's URL (`engine.url.database`, `db.bind.url.database`,
`url = request.app.state.engine.url` then `url.database`) was reported as maybe doing synchronous
Session work. An engine's, a Connection's or a Session bind's `url` and `dialect` do no I/O, and
what is read through them is a string or a setting, never a Session. A value on an untyped
carrier named like a Session (`request.state.db`) is still unverified."""

from __future__ import annotations

import pytest

ENGINE = '''
from collections.abc import AsyncIterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from vendor_sdk import make_engine

engine = create_async_engine("sqlite+aiosqlite://")
sync_engine = create_engine("sqlite://")
vendor_engine = make_engine()
maker = async_sessionmaker(engine)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
'''
ROUTES = '''
import logging

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from db.async_engine import engine, get_session, sync_engine, vendor_engine

log = logging.getLogger(__name__)


def describe(name):
    return str(name).upper()


@router.get("/engine")
async def on_engine(db: AsyncSession = Depends(get_session)):
    log.info("db %s on %s", engine.url.database, engine.dialect.name)
    return {"db": describe(engine.url.database), "name": describe(engine.name)}


@router.get("/sync")
async def on_sync(db: AsyncSession = Depends(get_session)):
    return {"db": describe(sync_engine.url.database), "dialect": describe(sync_engine.dialect.name)}


@router.get("/vendor")
async def on_vendor(db: AsyncSession = Depends(get_session)):
    return {"db": describe(vendor_engine.url.database)}


@router.get("/bind")
async def on_bind(db: AsyncSession = Depends(get_session)):
    log.info("db %s", db.bind.url.database)
    return {"db": describe(db.get_bind().url.database), "url": describe(db.bind.url)}


@router.get("/state")
async def on_state(request: Request):
    url = request.app.state.engine.url
    return {"db": describe(url.database), "other": describe(request.app.state.engine.url.database)}


@router.get("/carrier")
async def on_carrier(request: Request):
    log.info("db %s", request.state.db)
    return {}
'''
FILES = {"db/async_engine.py": ENGINE}


@pytest.mark.parametrize("function", ["on_engine", "on_sync", "on_vendor", "on_bind", "on_state"])
def test_reading_what_describes_the_database_is_clean(app, findings, function):
    assert findings(app(ROUTES, FILES), function) == []


def test_near_miss_a_value_on_an_untyped_carrier_named_like_a_session_is_am304(app, findings):
    found = findings(app(ROUTES, FILES), "on_carrier")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "`request.state.db`" in found[0]["message"], found
