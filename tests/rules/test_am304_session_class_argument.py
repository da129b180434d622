"""AM304 unverified-session beside a Session class handed as an argument: `isinstance(session,
AsyncSession)` (or a project's Session subclass) hands the class, not a Session the analysis
cannot type, so it makes no finding; a Session on an untyped carrier handed on still does."""

from __future__ import annotations

ROUTES = """
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from db.asyncs import get_async_db
from db.sessions import TenantSession


def check_kind(value, kind):
    return isinstance(value, kind)


async def verify(session: AsyncSession) -> int:
    assert isinstance(session, AsyncSession)
    assert check_kind(session, AsyncSession) or check_kind(session, TenantSession)
    return 1


@router.get("/typed")
async def typed(db: AsyncSession = Depends(get_async_db)):
    return {"n": await verify(db)}


@router.get("/carried")
async def carried(request: Request):
    return {"ok": check_kind(request.state.db_session, AsyncSession)}
"""
ASYNC_ENGINE = """
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

async_engine = create_async_engine("sqlite+aiosqlite://")
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db():
    async with AsyncSessionLocal() as session:
        yield session
"""
SESSIONS = """
from sqlalchemy.ext.asyncio import AsyncSession


class TenantSession(AsyncSession):
    pass
"""
FILES = {"db/asyncs.py": ASYNC_ENGINE, "db/sessions.py": SESSIONS}


def test_a_session_class_handed_on_is_no_untyped_session(app, findings):
    assert findings(app(ROUTES, FILES), "typed") == []


def test_near_miss_a_session_on_an_untyped_carrier_is_still_unverified(app, findings):
    found = findings(app(ROUTES, FILES), "carried")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "request.state.db_session" in found[0]["message"], found
