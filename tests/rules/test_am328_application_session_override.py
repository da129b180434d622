"""AM328 application-session-override: the application's own `dependency_overrides` of its session
dependency blocks the stack (the migrated routes would bypass it in production); the same override
in the tests is a follow-up, and one the application makes of the async dependency too covers it."""

from __future__ import annotations

from textwrap import dedent

ROUTE = """
@router.post("/books")
def create_book(session: session_dependency, title: str):
    session.add(Book(title=title, author_id=1))
    session.flush()
"""
MAIN = """
from fastapi import FastAPI

from api.items import router
from db.engine import database_sessionmaker, get_db_session


def get_audited_db():
    with database_sessionmaker() as db:
        db.info["audited"] = True
        yield db


app = FastAPI()
app.include_router(router)
app.dependency_overrides[get_db_session] = get_audited_db
"""


def test_an_override_in_the_application_blocks_with_am328_naming_it(phase2, entry):
    document = phase2(ROUTE, {"main.py": MAIN})
    found = entry(document, "create_book")
    assert found["action"] == "blocked" and found["codes"] == ["AM328"], found
    assert "main.py:15: the application overrides its session dependency " \
        "(`app.dependency_overrides[get_db_session] = get_audited_db`)" in found["reasons"][0], found
    assert document["files_changed"] == []
    assert not any("main.py" in note for note in document["subsystem"]["override_follow_ups"])


def test_near_miss_the_same_override_in_the_tests_is_a_follow_up(phase2, entry):
    conftest = dedent(MAIN).replace("app = FastAPI()\napp.include_router(router)\n", "from main import app\n")
    document = phase2(ROUTE, {"main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n", "tests/conftest.py": conftest})
    found = entry(document, "create_book")
    assert found["action"] == "migrate" and "AM328" not in found["codes"], found
    assert any(note.startswith("tests/conftest.py:") for note in document["subsystem"]["override_follow_ups"])
