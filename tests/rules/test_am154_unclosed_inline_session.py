"""AM154 unclosed-inline-session: `s = SessionLocal()` never closed blocks phase two; closed in a
`finally`, opened with `with`, or handed back to the caller, it migrates."""

from __future__ import annotations

import pytest


def test_a_session_opened_by_assignment_and_never_closed_blocks_with_am154(phase2, entry):
    document = phase2(
        """
        from db.engine import database_sessionmaker


        @router.get("/count")
        def count():
            s = database_sessionmaker()
            return s.scalar(select(func.count(Book.id)))
        """,
    )
    found = entry(document, "count")
    assert (found["action"], found["codes"]) == ("blocked", ["AM154"]), found
    assert "opens `s` by assignment and never closes it" in found["reasons"][0]
    assert "drain the pool" in found["reasons"][0]


@pytest.mark.parametrize("body", [
    "s = database_sessionmaker()\ntry:\n    return s.scalar(select(func.count(Book.id)))\nfinally:\n    s.close()",
    "with database_sessionmaker() as s:\n    return s.scalar(select(func.count(Book.id)))",
], ids=["closed-in-finally", "with-block"])
def test_near_miss_a_closed_session_migrates(phase2, entry, body):
    document = phase2(
        """
        from db.engine import database_sessionmaker


        @router.get("/count")
        def count():
            BODY
        """.replace("BODY", body.replace("\n", "\n            ")),
    )
    assert entry(document, "count")["action"] == "migrate"


def test_a_session_opened_in_a_helper_call_s_arguments_blocks_with_am154(phase2, entry):
    document = phase2(
        """
        from db.engine import database_sessionmaker


        def count_books(session):
            return session.scalar(select(func.count(Book.id)))


        @router.get("/count")
        def count():
            return count_books(database_sessionmaker())
        """,
    )
    found = entry(document, "count")
    assert found["action"] == "blocked" and "AM154" in found["codes"], found
    assert any("opens a Session right in a call's arguments (`database_sessionmaker()`)" in r
               for r in found["reasons"]), found["reasons"]
