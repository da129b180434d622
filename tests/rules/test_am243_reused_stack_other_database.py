"""AM243 reused-stack-other-database: an existing async engine bound to another URL blocks the
routes, naming both sources; one derived from the same URL by a driver swap is reused."""

from __future__ import annotations

from textwrap import dedent

ROUTE = """
@router.post("/books")
def create_book(session: session_dependency, title: str):
    session.add(Book(title=title, author_id=1))
    session.commit()
"""
ENGINE = """
import os
from collections.abc import AsyncIterator, Iterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)

async_engine = create_async_engine(ASYNC_URL)
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""


def test_an_async_engine_on_another_variable_blocks_with_am243(phase2, entry):
    engine = dedent(ENGINE).replace("ASYNC_URL", 'os.environ["REPORTING_URL"]')
    found = entry(phase2(ROUTE, {"db/engine.py": engine}), "create_book")
    assert found["action"] == "blocked" and "AM243" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM243")]
    assert "db/engine.py:11" in reason and "db/engine.py:8" in reason, reason
    assert "REPORTING_URL" in reason and "DATABASE_URL" in reason, reason


def test_near_miss_a_driver_swap_of_the_same_variable_is_reused(phase2, entry):
    engine = dedent(ENGINE).replace(
        "ASYNC_URL", 'os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://")'
    )
    found = entry(phase2(ROUTE, {"db/engine.py": engine}), "create_book")
    assert found["action"] == "migrate" and "AM243" not in found["codes"], found


# A project function converting the URL for the async engine, per database.
HELPER = '''


def to_async_url(url: str) -> str:
    if url.startswith("sqlite://"):
        return url.replace("sqlite://", "sqlite+aiosqlite://", 1)
    if url.startswith("mysql+pymysql://"):
        return url.replace("mysql+pymysql://", "mysql+aiomysql://", 1)
    return BODY
'''


def test_near_miss_a_project_helper_returning_the_url_or_a_driver_swap_of_it_is_reused(phase2, entry):
    engine = dedent(ENGINE).replace("ASYNC_URL", 'to_async_url(os.environ["DATABASE_URL"])') + HELPER.replace(
        "BODY", "url  # psycopg serves both"
    )
    found = entry(phase2(ROUTE, {"db/engine.py": engine}), "create_book")
    assert found["action"] == "migrate" and "AM243" not in found["codes"], found


def test_a_project_helper_changing_more_than_the_driver_blocks_with_am243(phase2, entry):
    engine = dedent(ENGINE).replace("ASYNC_URL", 'to_async_url(os.environ["DATABASE_URL"])') + HELPER.replace(
        "BODY", 'url.replace("/app", "/reports")'
    )
    found = entry(phase2(ROUTE, {"db/engine.py": engine}), "create_book")
    assert found["action"] == "blocked" and "AM243" in found["codes"], found
