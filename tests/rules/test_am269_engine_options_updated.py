"""AM269 engine-options-updated: `update_execution_options(...)` on the synchronous engine blocks
the routes phase two would move onto a generated async engine; on another engine it does not."""

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
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
reports_engine = create_engine(os.environ["REPORTS_URL"])
UPDATE
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


def on_startup() -> None:
    STARTUP
"""


def _engine(update: str = "", startup: str = "pass") -> str:
    return dedent(ENGINE).replace("UPDATE", update).replace("STARTUP", startup)


def test_an_update_of_the_engine_at_import_blocks_with_am269(phase2, entry):
    update = 'engine.update_execution_options(schema_translate_map={"per_tenant": "acme"})'
    found = entry(phase2(ROUTE, {"db/engine.py": _engine(update)}), "create_book")
    assert found["action"] == "blocked" and "AM269" in found["codes"], found
    assert "db/engine.py:9" in found["reasons"][found["codes"].index("AM269")]


def test_an_update_of_the_engine_in_a_startup_function_blocks_with_am269(phase2, entry):
    startup = 'engine.update_execution_options(isolation_level="AUTOCOMMIT")'
    found = entry(phase2(ROUTE, {"db/engine.py": _engine(startup=startup)}), "create_book")
    assert "AM269" in found["codes"], found


def test_near_miss_an_update_of_another_engine_is_not_the_stack(phase2, entry):
    update = 'reports_engine.update_execution_options(isolation_level="AUTOCOMMIT")'
    found = entry(phase2(ROUTE, {"db/engine.py": _engine(update)}), "create_book")
    assert found["action"] == "migrate" and "AM269" not in found["codes"], found
