"""AM135 on-async-session: an `async def` handler already on an AsyncSession says so, instead of
"does no synchronous Session work" (AM105), which reads as a route without a database."""

from __future__ import annotations

ROUTES = """
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

async_engine = create_async_engine("sqlite+aiosqlite://")
async_session = async_sessionmaker(async_engine)


async def get_async_db():
    async with async_session() as session:
        yield session


class Repo:
    def __init__(self, session: AsyncSession = Depends(get_async_db)):
        self.session = session


def count(session: Session) -> int:
    return session.execute(select(1)).scalar_one()


@router.get("/param")
async def through_param(session: AsyncSession = Depends(get_async_db)):
    return (await session.execute(select(1))).scalar_one()


@router.get("/opened")
async def opened():
    async with async_session() as s:
        return (await s.execute(select(1))).scalar_one()


@router.get("/repo")
async def through_repo(repo: Repo = Depends(Repo)):
    return (await repo.session.execute(select(1))).scalar_one()


@router.get("/mixed")
async def mixed(session: AsyncSession = Depends(get_async_db)):
    return count(session)


@router.get("/health")
async def health():
    return {"ok": True}
"""


def test_a_route_on_an_async_session_keeps_with_am135_saying_how(app, reported):
    root = app(ROUTES)
    expected = {
        "through_param": "already uses an AsyncSession (`session: AsyncSession`)",
        "opened": "already uses an AsyncSession (opened as `s` at line",
        "through_repo": "already uses an AsyncSession (through its dependency api.items.Repo",
    }
    for command in ("scan", "phase1"):
        for function, said in expected.items():
            entry = reported(root, function, command)
            assert (entry["action"], entry["codes"]) == ("keep", ["AM135"]), entry
            assert entry["reasons"][0].startswith(said), entry


def test_an_async_session_route_reaching_sync_session_code_says_check_reports_it(app, reported):
    entry = reported(app(ROUTES), "mixed", "phase1")
    assert entry["codes"] == ["AM135"]
    assert "but it reaches synchronous Session code at line" in entry["reasons"][0], entry
    assert "(AM302)" in entry["reasons"][0]


def test_near_miss_a_route_without_a_database_stays_am105(app, reported):
    entry = reported(app(ROUTES), "health", "phase1")
    assert (entry["codes"], entry["reasons"]) == (["AM105"], ["does no synchronous Session work"])
