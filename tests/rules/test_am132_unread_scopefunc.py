"""AM132 on a `scoped_session` whose scope the analysis cannot read: the reason says why (a
`scopefunc=` it cannot follow, or arguments unpacked into the call) and what such a key may do to
a `def` route, rather than taking it for the thread's."""

from __future__ import annotations

import pytest

REGISTRY = """
import threading

from sqlalchemy.orm import scoped_session

import vendor
from db.engine import database_sessionmaker

OPTIONS = {}
ScopedSession = scoped_session(database_sessionmaker{scope})
"""

ROUTES = """
from sqlalchemy import text

from db.scoped import ScopedSession


@router.get("/count")
async def read_count():
    return ScopedSession.execute(text("select 1")).scalar()
"""

FILES = {"vendor.py": "current_key = getattr(__import__('os'), 'key', None)\n"}


def _root(app, scope: str):  # type: ignore[no-untyped-def]
    return app(ROUTES, {**FILES, "db/scoped.py": REGISTRY.replace("{scope}", scope)})


@pytest.mark.parametrize(
    ("scope", "written"),
    [(", scopefunc=vendor.current_key", "vendor.current_key"), (", scopefunc=lambda: None", "lambda: None")],
    ids=["library-function", "lambda"],
)
def test_a_scopefunc_given_but_unread_is_named_with_what_it_may_key_on(app, reported, findings, scope, written):
    # before: "the thread's unless its `scopefunc=` says otherwise", though one was given, and the
    # harm and fix of a thread-local registry only
    root = _root(app, scope)
    entry = reported(root, "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    reason = entry["reasons"][0]
    assert (
        f"whose scope the analysis cannot read: its `scopefunc={written}` may key the Session on the thread, on "
        "the asyncio task or on one value every request shares"
    ) in reason, reason
    assert "fail (an asyncio task's: none runs there) or use one Session from several workers at once" in reason
    assert "says otherwise" not in reason, reason
    [finding] = findings(root, "read_count")
    assert "write it so the analysis reads it: `scopefunc=` the `.get` of a module-level `ContextVar`" in (
        finding["message"]
    ), finding


def test_arguments_unpacked_into_the_call_may_give_a_scopefunc(app, reported):
    reason = reported(_root(app, ", **OPTIONS"), "read_count", "phase1")["reasons"][0]
    assert "the thread's unless the arguments unpacked into the call give a `scopefunc=`" in reason, reason


def test_near_miss_a_scopefunc_the_analysis_reads_is_named_as_the_thread(app, reported):
    reason = reported(_root(app, ", scopefunc=threading.get_ident"), "read_count", "phase1")["reasons"][0]
    assert "whose scope is the thread (db/scoped.py:9)" in reason and "cannot read" not in reason, reason
