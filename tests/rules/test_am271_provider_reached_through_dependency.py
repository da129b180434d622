"""AM271 names the session dependency the routes reach. fides: the routes inject `get_db`, which
yields `get_api_session()`; the analysis took only an injected session dependency for the routes'
and, finding none, fell back to every function typed `-> Session`, so the blocker named
`DatabaseTask.get_new_session`, a Celery task's method no route reaches, as "the session
dependency". The one `get_db` calls for the Session it yields is the routes' own."""

from __future__ import annotations

ENGINE = """
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

_engine = None


def get_api_session() -> Session:
    global _engine
    if not _engine:
        _engine = create_engine("sqlite://")
    SessionLocal = sessionmaker(_engine)
    db = SessionLocal()
    return db


def get_db_session():
    db = get_api_session()
    try:
        yield db
    finally:
        db.close()
"""
TASKS = """
from typing import ContextManager

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker


class Task:
    pass


class DatabaseTask(Task):
    _maker = None

    def get_new_session(self) -> ContextManager[Session]:
        if self._maker is None:
            self._maker = sessionmaker(create_engine("sqlite://"))
        return self._maker()
"""
ROUTE = """
@router.post("/books")
def create_book(session: session_dependency, title: str):
    session.add(Book(title=title, author_id=1))
    session.flush()
"""


def test_the_blocker_names_the_provider_the_routes_dependency_calls_not_a_task_method(phase2):
    document = phase2(ROUTE, {"db/engine.py": ENGINE, "tasks.py": TASKS})
    found = [b for b in document["subsystem"]["blockers"] if b["code"] == "AM271"]
    assert [b["file"] for b in found] == ["db/engine.py"], found
    assert "the session dependency `get_api_session` does more per request" in found[0]["message"], found


def test_the_task_method_is_named_nowhere(phase2):
    document = phase2(ROUTE, {"db/engine.py": ENGINE, "tasks.py": TASKS})
    assert "get_new_session" not in str(document["subsystem"]) + str(document["handlers"]), document["subsystem"]


def test_near_miss_an_injected_provider_opening_from_a_module_level_sessionmaker_migrates(phase2, entry):
    # the usual `get_db_session` (conftest's ENGINE) beside the same task class: nothing to block
    document = phase2(ROUTE, {"tasks.py": TASKS})
    assert entry(document, "create_book")["action"] == "migrate", document["subsystem"]
    assert "get_new_session" not in str(document["subsystem"]), document["subsystem"]
