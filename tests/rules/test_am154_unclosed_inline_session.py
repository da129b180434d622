"""AM154 unclosed-inline-session: `s = SessionLocal()` not closed on every path (never, or by a
`close()` an exception or a return can skip) blocks phase two; closed in a `finally`, opened
with `with`, or handed back to the caller, it migrates."""

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


PARTLY_CLOSED = {
    # closed after the work: an exception in it, or the early return, skips the close
    "after-the-work": (
        "s = database_sessionmaker()\nn = s.scalar(select(func.count(Book.id)))\nif n == 0:\n    return 0\n"
        "s.close()\nreturn n", 20),
    "in-the-try-body": (
        "try:\n    s = database_sessionmaker()\n    n = s.scalar(select(func.count(Book.id)))\n    s.close()\n"
        "except KeyError:\n    return -1\nreturn n", 19),
    "in-an-except-only": (
        "s = database_sessionmaker()\ntry:\n    n = s.scalar(select(func.count(Book.id)))\n"
        "except Exception:\n    s.close()\n    raise\nreturn n", 20),
    # the finally of a try the opening is not in, with work in between
    "finally-of-a-later-try": (
        "s = database_sessionmaker()\nn = s.scalar(select(func.count(Book.id)))\ntry:\n    pass\n"
        "finally:\n    s.close()\nreturn n", 21),
}


@pytest.mark.parametrize("shape", list(PARTLY_CLOSED))
def test_a_session_closed_only_on_some_paths_blocks_with_am154_naming_the_close(phase2, entry, shape):
    body, close_line = PARTLY_CLOSED[shape]
    document = phase2(
        """
        from db.engine import database_sessionmaker


        @router.get("/count")
        def count():
            BODY
        """.replace("BODY", body.replace("\n", "\n            ")),
    )
    found = entry(document, "count")
    assert (found["action"], found["codes"]) == ("blocked", ["AM154"]), found
    assert (f"opens `s` by assignment and closes it only on some paths (`s.close()` at line {close_line} "
            "is not in a `finally`") in found["reasons"][0], found["reasons"]
    assert "drain the pool" in found["reasons"][0]


def test_a_session_closed_by_leaving_a_sync_with_on_its_name_blocks_with_am154(phase2, entry):
    document = phase2(
        """
        from db.engine import database_sessionmaker


        @router.get("/count")
        def count():
            s = database_sessionmaker()
            with s:
                return s.scalar(select(func.count(Book.id)))
        """,
    )
    found = entry(document, "count")
    assert (found["action"], found["codes"]) == ("blocked", ["AM154"]), found
    assert "closes it by leaving `with s:` (line 17), which phase two does not turn into `async with`" in (
        found["reasons"][0]
    ), found["reasons"]


@pytest.mark.parametrize("body", [
    "s = database_sessionmaker()\ntry:\n    return s.scalar(select(func.count(Book.id)))\nfinally:\n    s.close()",
    "with database_sessionmaker() as s:\n    return s.scalar(select(func.count(Book.id)))",
    "s = None\ntry:\n    s = database_sessionmaker()\n    return s.scalar(select(func.count(Book.id)))\n"
    "finally:\n    if s is not None:\n        s.close()",
    "if True:\n    s = database_sessionmaker()\n    try:\n        n = s.scalar(select(func.count(Book.id)))\n"
    "    finally:\n        s.close()\n    return n",
], ids=["closed-in-finally", "with-block", "opened-in-the-try-closed-in-finally", "in-a-nested-block"])
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


def test_a_session_opened_in_contextlib_closing_blocks_saying_the_close_would_not_be_awaited(phase2, entry):
    document = phase2(
        """
        from contextlib import closing

        from db.engine import database_sessionmaker


        @router.get("/count")
        def count():
            with closing(database_sessionmaker()) as s:
                return s.scalar(select(func.count(Book.id)))
        """,
    )
    found = entry(document, "count")
    assert (found["action"], found["codes"]) == ("blocked", ["AM154"]), found
    assert "opens a Session in `closing(database_sessionmaker())`, which on an AsyncSession calls `close()` " \
        "without awaiting it" in found["reasons"][0], found["reasons"]
