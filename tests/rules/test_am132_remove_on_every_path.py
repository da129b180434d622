"""AM132 and a route's own `remove()` of a thread-local `scoped_session`: it counts only where it
runs however the work is left (a `finally` around the work, or the `finally` around the `yield` of
a `@contextmanager` the work runs in). Converted on any other, a request failing before it leaves
the worker thread's Session (its transaction and connection) to the next request on that thread."""

from __future__ import annotations

import pytest

SCOPES = """
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

ScopedSession = scoped_session(database_sessionmaker)


def count():
    return ScopedSession.execute(text("select 1")).scalar()


def cleanup():
    ScopedSession.remove()


@contextmanager
def scope():
    session = ScopedSession()
    try:
        yield session
        session.commit()
    finally:
        ScopedSession.remove()


@contextmanager
def scope_after_yield():
    session = ScopedSession()
    yield session
    ScopedSession.remove()


@contextmanager
def scope_work_before():
    session = ScopedSession()
    session.execute(text("select 1"))
    try:
        yield session
    finally:
        ScopedSession.remove()
"""

ROUTE = """
from sqlalchemy import text

from db.scoped import ScopedSession, cleanup, count, scope, scope_after_yield, scope_work_before


@router.get("/count")
async def read_count():
    {body}
"""

INLINE = "n = count()\n    ScopedSession.remove()\n    return n"
EXCEPT = "try:\n        n = count()\n    except Exception:\n        ScopedSession.remove()\n        raise\n    return n"
BRANCH = "n = count()\n    if n:\n        ScopedSession.remove()\n    return n"
AFTER = "try:\n        n = count()\n    finally:\n        ScopedSession.remove()\n    return n + count()"
LAMBDA = "try:\n        f = lambda: count()\n    finally:\n        ScopedSession.remove()\n    return f()"
AFTER_YIELD = 'with scope_after_yield() as s:\n        return s.execute(text("select 1")).scalar()'
WORK_BEFORE = 'with scope_work_before() as s:\n        return s.execute(text("select 1")).scalar()'


def _root(app, body: str):  # type: ignore[no-untyped-def]
    return app(ROUTE.replace("{body}", body), {"db/scoped.py": SCOPES})


@pytest.mark.parametrize(
    "body",
    [INLINE, EXCEPT, BRANCH, AFTER, LAMBDA, AFTER_YIELD, WORK_BEFORE],
    ids=["inline", "except", "branch", "work-after-finally", "lambda", "remove-after-yield", "work-before-try"],
)
def test_a_remove_some_path_skips_keeps_the_route_with_am132(app, reported, findings, body):
    # before, any `remove()` the route ran counted, and each of these converted
    root = _root(app, body)
    entry = reported(root, "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    [finding] = findings(root, "read_count")
    assert "phase one keeps it async" in finding["message"], finding


def test_the_reason_names_the_remove_and_the_finally(app, reported, findings):
    root = _root(app, INLINE)
    reason = reported(root, "read_count", "phase1")["reasons"][0]
    assert "(`ScopedSession.execute()`)" in reason, reason
    assert "its `ScopedSession.remove()` (api/items.py:16) runs only when nothing before it raises" in reason
    [finding] = findings(root, "read_count")
    assert "call it in a `finally` around all the work on the registry" in finding["message"], finding


@pytest.mark.parametrize(
    "body",
    [
        "try:\n        return count()\n    finally:\n        ScopedSession.remove()",
        "session = ScopedSession()\n    try:\n        return session.execute(text('select 1')).scalar()\n"
        "    finally:\n        ScopedSession.remove()",
        "try:\n        return count()\n    finally:\n        cleanup()",
        'with scope() as s:\n        return s.execute(text("select 1")).scalar()',
        "with scope():\n        return count()",
    ],
    ids=["finally", "local-then-finally", "cleanup-in-finally", "contextmanager", "contextmanager-global"],
)
def test_near_miss_a_remove_on_every_path_converts(app, reported, body):
    entry = reported(_root(app, body), "read_count", "phase1")
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


def test_near_miss_a_helper_removing_in_its_own_finally_converts(app, reported):
    helper = "\n\ndef counted():\n    try:\n        return count()\n    finally:\n        ScopedSession.remove()\n"
    root = app(ROUTE.replace("{body}", "return counted()") + helper, {"db/scoped.py": SCOPES})
    entry = reported(root, "read_count", "phase1")
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry
