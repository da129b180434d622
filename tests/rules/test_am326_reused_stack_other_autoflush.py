"""AM326 reused-stack-other-autoflush: an existing async sessionmaker that autoflushes otherwise
than the sync one blocks the routes; one that agrees (as written, configured or by default) is reused."""

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
database_sessionmaker = sessionmaker(engine, expire_on_commit=False, autoflush=False)

async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=FalseOPTIONS)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""


def _engine(options: str, sync: str = ", autoflush=False") -> dict[str, str]:
    """The async sessionmaker's extra keywords, and the sync sessionmaker's after expire_on_commit."""
    return {"db/engine.py": dedent(ENGINE).replace("OPTIONS", options).replace(", autoflush=False)", f"{sync})", 1)}


def test_a_reused_sessionmaker_that_autoflushes_blocks_with_am326(phase2, entry):
    found = entry(phase2(ROUTE, _engine("")), "create_book")
    assert found["action"] == "blocked" and "AM326" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM326")]
    assert "db/engine.py:12" in reason and "which autoflushes" in reason, reason
    assert "db/engine.py:9" in reason and "does not autoflush" in reason, reason


def test_the_other_way_round_blocks_too(phase2, entry):
    found = entry(phase2(ROUTE, _engine(", autoflush=False", sync=", autoflush=True")), "create_book")
    assert "AM326" in found["codes"], found


def test_an_opening_call_overriding_the_maker_counts(phase2, entry):
    files = _engine(", autoflush=False")
    files["db/engine.py"] = files["db/engine.py"].replace(
        "async with async_database_sessionmaker() as", "async with async_database_sessionmaker(autoflush=True) as"
    )
    assert "AM326" in entry(phase2(ROUTE, files), "create_book")["codes"]


def test_near_miss_the_same_autoflush_is_reused(phase2, entry):
    found = entry(phase2(ROUTE, _engine(", autoflush=False")), "create_book")
    assert found["action"] == "migrate" and "AM326" not in found["codes"], found
    both_default = entry(phase2(ROUTE, _engine("", sync="")), "create_book")
    assert both_default["action"] == "migrate", both_default
