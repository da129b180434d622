"""AM215 session-passed-to-unknown-call: the Session handed to a third-party call with no known
async form blocks the route; a configured call mapping lifts it."""

from __future__ import annotations

import pytest

from async_migrate.codemods.rules import by_code

ROUTE = """
from thirdparty import export_rows


@router.get("/export")
def export(session: session_dependency):
    return export_rows(session)
"""


def test_the_session_passed_to_a_third_party_call_blocks_with_am215(phase2, entry):
    found = entry(phase2(ROUTE), "export")
    assert (found["action"], found["codes"]) == ("blocked", ["AM215"])
    assert "passes the Session to `thirdparty.export_rows()`" in found["reasons"][0]


def test_near_miss_a_mapped_call_moves_to_its_async_form(phase2, entry):
    config = '[tool.async-migrate]\ncall-mappings = {"thirdparty.export_rows" = "thirdparty.aexport_rows"}\n'
    found = entry(phase2(ROUTE, {"pyproject.toml": config}), "export")
    assert found["action"] == "migrate" and "AM215" not in found["codes"], found


TASK = """
from fastapi import BackgroundTasks

from models import Book


def log_view(session, book_id: int) -> None:
    session.get(Book, book_id)
    session.commit()


@router.post("/later")
def later(book_id: int, background_tasks: BackgroundTasks, session: session_dependency):
    session.get(Book, book_id)
    background_tasks.add_task(log_view, session, book_id)
    return {}
"""


def test_the_session_handed_to_a_background_task_names_the_task_not_call_mappings(phase2, entry):
    found = entry(phase2(TASK), "later")
    assert found["action"] == "blocked" and "AM215" in found["codes"], found
    reason = " ".join(found["reasons"])
    assert "`background_tasks.add_task()`" in reason and "log_view" in reason, reason
    assert "call-mappings" not in reason and "open its own Session" in reason, reason


UNTYPED = """
from models import Book


def find(session, book_id: int):
    return session.get(Book, book_id) or LOADERS[book_id]


LOADERS: dict = {}


@router.post("/touch/{book_id}")
def touch(book_id: int, session: session_dependency):
    book = find(session, book_id)
    book.touch(session)
    return {}
"""


def test_a_method_of_an_object_of_unknown_class_names_the_object_not_only_call_mappings(phase2, entry):
    # `book.touch(session)`: what runs depends on the object's class, which the analysis cannot tell
    found = entry(phase2(UNTYPED), "touch")
    assert found["action"] == "blocked" and "AM215" in found["codes"], found
    reason = " ".join(found["reasons"])
    assert "`book.touch()`, a method of `book`, whose class the analysis cannot tell" in reason, reason
    assert "migrate the route by hand" in reason, reason



FACTORY = """
from models import Book


class Exporter:
    def __init__(self, session) -> None:
        self.session = session

    def count(self) -> int:
        return len(self.session.scalars(select(Book)).all())


def build(factory, session):
    return factory(session).count()


@router.get("/export")
def export(session: session_dependency):
    return {"count": build(Exporter, session)}
"""


def test_the_session_passed_to_a_parameter_says_so_not_call_mappings(phase2, entry):
    # `factory(session)`, `factory` a parameter: no library call a mapping could name
    found = entry(phase2(FACTORY), "export")
    assert found["action"] == "blocked" and "AM215" in found["codes"], found
    reason = " ".join(found["reasons"])
    assert "`factory()`, a call of the local name `factory` (a parameter or a variable)" in reason, reason
    assert "call-mappings" not in reason, reason


RESPONSE_TASK = """
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask


def log_view(session: Session, book_id: int) -> None:
    session.execute(select(Book).where(Book.id == book_id))


@router.get("/books/{book_id}/seen")
def seen(book_id: int, session: session_dependency):
    return JSONResponse({"id": book_id}, background=BackgroundTask(log_view, session, book_id))
"""


def test_the_session_handed_to_a_response_background_task_names_the_task_not_call_mappings(phase2, entry):
    found = entry(phase2(RESPONSE_TASK), "seen")
    assert found["action"] == "blocked" and "AM215" in found["codes"], found
    reason = " ".join(found["reasons"])
    assert "background task `" in reason and "log_view" in reason and "open its own Session" in reason, reason
    assert "call-mappings" not in reason, reason


LISTENER = """
from sqlalchemy import event

SENT: list[int] = []


@router.post("/books/{book_id}/notify")
def notify(book_id: int, session: session_dependency):
    @event.listens_for(session, "after_commit", once=True)
    def _sent(s):
        SENT.append(book_id)

    session.commit()
    return {}
"""


def test_a_listener_registered_on_the_session_names_sync_session_not_call_mappings(phase2, entry):
    found = entry(phase2(LISTENER), "notify")
    assert found["action"] == "blocked" and "AM215" in found["codes"], found
    reason = " ".join(found["reasons"])
    assert "`session.sync_session`" in reason and "NotImplementedError" in reason, reason
    assert "call-mappings" not in reason, reason


BY_STRING = """
from models import Book


@router.post("/books")
def save(session: session_dependency):
    session.add(Book(title="t"))
    {line}
    return {{}}
"""



@pytest.mark.parametrize(
    ("line", "fix"),
    [
        ('getattr(session, "commit")()', "write `session.commit()` by name there"),
        ('getattr(session, "flush", None)', "write `session.flush()` by name there"),
        ('setattr(session, "autoflush", False)', "write `session.autoflush = ...` by name there"),
        ('hasattr(session, "info")', "write `session.info` by name there"),
    ],
)
def test_a_session_member_named_by_a_string_says_to_write_it_by_name_not_call_mappings(phase2, entry, line, fix):
    found = entry(phase2(BY_STRING.format(line=line)), "save")
    assert found["action"] == "blocked" and "AM215" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM215")]
    assert fix in reason and "call-mappings" not in reason, reason


def test_a_session_member_named_at_run_time_says_to_write_it_by_name(phase2, entry):
    found = entry(phase2(BY_STRING.format(line='name = "commit"\n    getattr(session, name)()')), "save")
    reason = found["reasons"][found["codes"].index("AM215")]
    assert "with a name computed at run time" in reason and "call-mappings" not in reason, reason


TABLE = """
from typing import Any, Callable

from models import Book


def count_books(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Book))


OPERATIONS: dict[str, Callable[..., Any]] = {"count": count_books}


@router.post("/rpc")
def rpc(name: str, session: session_dependency):
    resolver = OPERATIONS[name]
    return resolver(session)
"""


def test_the_project_s_own_table_is_am215_whose_summary_says_so(phase2, entry):
    """A new-user trial read AM215's 'a call outside the project' on a route dispatching through
    its own `OPERATIONS` table: the summary names project code picked at run time."""
    found = entry(phase2(TABLE), "rpc")
    assert (found["action"], found["codes"]) == ("blocked", ["AM215"]), found
    assert "picked at run time out of `OPERATIONS`" in found["reasons"][0], found["reasons"]
    rule = by_code("AM215")
    assert "outside the project" not in rule.summary and "picked at run time" in rule.summary, rule.summary
    assert "by its name" in rule.fix, rule.fix


def test_near_miss_a_library_call_is_still_told_of_call_mappings(phase2, entry):
    found = entry(phase2(ROUTE), "export")
    assert found["codes"] == ["AM215"] and "call-mappings" in found["reasons"][0], found
    assert "async form" in by_code("AM215").summary and "call-mappings" in by_code("AM215").fix
