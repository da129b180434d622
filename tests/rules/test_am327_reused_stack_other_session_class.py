"""AM327 reused-stack-other-session-class: an existing async sessionmaker whose sessions run a
Session class overriding other methods than the sync sessionmaker's blocks the routes; one
running the same class, or a class that only adds methods, is reused."""

from __future__ import annotations

from textwrap import dedent

ROUTE = """
@router.post("/books")
def create_book(session: session_dependency, title: str):
    session.add(Book(title=title, author_id=1))
    session.commit()
"""
ENGINE = """
from collections.abc import AsyncIterator, Iterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///app.db")


class ReadOnlySession(Session):
    def flush(self, objects=None):
        raise RuntimeError("read-only session")


database_sessionmaker = sessionmaker(engine, expire_on_commit=FalseSYNC)
read_sessionmaker = sessionmaker(engine, class_=ReadOnlySession, expire_on_commit=False)

async_engine = create_async_engine("sqlite+aiosqlite:///app.db")
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False, sync_session_class=CLASS)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


def get_read_db() -> Iterator[Session]:
    with read_sessionmaker() as session:
        yield session


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""


def _engine(reused: str, sync: str = "") -> dict[str, str]:
    return {"db/engine.py": dedent(ENGINE).replace("CLASS", reused).replace("SYNC", sync)}


def test_a_read_only_stack_reused_for_writes_blocks_with_am327(phase2, entry):
    found = entry(phase2(ROUTE, _engine("ReadOnlySession")), "create_book")
    assert found["action"] == "blocked" and "AM327" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM327")]
    assert "`ReadOnlySession`, which overrides `flush()`" in reason, reason
    assert "`database_sessionmaker` (db/engine.py:15) makes plain Sessions" in reason, reason


def test_the_other_way_round_blocks_too(phase2, entry):
    found = entry(phase2(ROUTE, _engine("Session", sync=", class_=ReadOnlySession")), "create_book")
    assert "AM327" in found["codes"], found


def test_near_miss_the_same_class_or_one_adding_methods_is_reused(phase2, entry):
    same = entry(phase2(ROUTE, _engine("ReadOnlySession", sync=", class_=ReadOnlySession")), "create_book")
    assert "AM327" not in same["codes"], same
    files = _engine("Tagged")
    files["db/engine.py"] = files["db/engine.py"].replace(
        "\n\ndatabase_sessionmaker", "\n\nclass Tagged(Session):\n    def tag(self):\n        return 1\n\n\ndatabase_sessionmaker"
    )
    adding = entry(phase2(ROUTE, files), "create_book")
    assert adding["action"] == "migrate" and "AM327" not in adding["codes"], adding
