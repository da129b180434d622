"""AM266 reused-stack-other-options: an existing async engine on the sync engine's URL that maps
the schema or isolates transactions otherwise blocks the routes; one with the same options is reused."""

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

engine = create_engine(os.environ["DATABASE_URL"], isolation_level="SERIALIZABLE")
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)

async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://")OPTIONS)
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""


def test_a_reused_engine_translating_the_schema_blocks_with_am266(phase2, entry):
    options = ', isolation_level="SERIALIZABLE").execution_options(schema_translate_map={None: "reports"}'
    found = entry(phase2(ROUTE, {"db/engine.py": dedent(ENGINE).replace("OPTIONS", options)}), "create_book")
    assert found["action"] == "blocked" and "AM266" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM266")]
    assert "db/engine.py:11" in reason and "db/engine.py:8" in reason, reason
    assert "`schema_translate_map` is `{None: 'reports'}` on it and not set" in reason, reason
    assert "isolation_level" not in reason.split(" but ", 1)[1], reason


def test_a_reused_engine_in_autocommit_blocks_with_am266(phase2, entry):
    options = ', execution_options={"isolation_level": "AUTOCOMMIT"}'
    found = entry(phase2(ROUTE, {"db/engine.py": dedent(ENGINE).replace("OPTIONS", options)}), "create_book")
    assert "AM266" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM266")]
    assert "`isolation_level` is `'AUTOCOMMIT'` on it and `'SERIALIZABLE'` on the synchronous engine" in reason


def test_near_miss_the_same_options_and_others_are_reused(phase2, entry):
    options = ', isolation_level="SERIALIZABLE", echo=True, execution_options={"logging_token": "async"}'
    found = entry(phase2(ROUTE, {"db/engine.py": dedent(ENGINE).replace("OPTIONS", options)}), "create_book")
    assert found["action"] == "migrate" and "AM266" not in found["codes"], found
