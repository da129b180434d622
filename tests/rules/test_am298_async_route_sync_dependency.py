"""AM298 async-route-sync-dependency: a route already on an AsyncSession gets the async twins of
its dependencies still on the synchronous Session (never "unchanged")."""

from __future__ import annotations

ENGINE = """
from collections.abc import AsyncIterator, Iterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)
async_engine = create_async_engine("sqlite+aiosqlite://")
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""
ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import get_async_db_session


def get_current_user(db: session_dependency) -> int:
    return db.scalar(select(func.count(Book.id)))


def get_request_id() -> str:
    return "r"


@router.put("/me")
async def rename_me(user: int = Depends(get_current_user), db: AsyncSession = Depends(get_async_db_session)):
    await db.commit()
    return {"id": user}


@router.put("/other")
async def other(request_id: str = Depends(get_request_id), db: AsyncSession = Depends(get_async_db_session)):
    await db.commit()
    return {"id": request_id}
"""


def test_a_route_on_an_async_session_with_a_sync_session_dependency_migrates_with_am298(phase2, entry):
    document = phase2(ROUTES, {"db/engine.py": ENGINE})
    found = entry(document, "rename_me")
    assert found["action"] == "migrate" and "AM298" in found["codes"], found
    assert entry(document, "get_current_user", "helpers")["action"] == "twin"


def test_near_miss_a_route_on_an_async_session_alone_stays_unchanged(phase2, entry):
    document = phase2(ROUTES, {"db/engine.py": ENGINE})
    found = entry(document, "other")
    assert found["action"] == "unchanged" and "AM204" in found["codes"], found
