"""AM302 mixed-session: an `async def` handler on an AsyncSession that calls a helper opening a
synchronous Session still blocks the event loop."""

from __future__ import annotations

ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import database_sessionmaker


def load() -> list:
    with database_sessionmaker() as sync:
        return list(sync.scalars(select(1)))


def shape(rows: list) -> list:
    return sorted(rows)


@router.get("/mixed")
async def mixed(session: AsyncSession):
    return load()


@router.get("/clean")
async def clean(session: AsyncSession):
    return shape(list(await session.scalars(select(1))))
"""


def test_an_async_session_route_calling_a_sync_session_helper_is_am302(app, findings):
    (finding,) = findings(app(ROUTES), "mixed")
    assert finding["code"] == "AM302"
    assert "takes an AsyncSession" in finding["message"]


def test_near_miss_an_async_session_route_calling_a_plain_helper(app, findings):
    assert findings(app(ROUTES), "clean") == []
