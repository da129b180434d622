"""AM132 thread-scoped-session: a route on a thread-local `scoped_session` stays async with AM132
(and `check`'s fix does not offer offloading); a request-scoped registry, or a route that
removes its own Session, converts."""

from __future__ import annotations

import pytest

REGISTRY = """
from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

ScopedSession = scoped_session(database_sessionmaker{scope})
"""

ROUTES = """
from sqlalchemy import text

from db.scoped import ScopedSession


def count():
    return ScopedSession.execute(text("select 1")).scalar()


@router.get("/count")
async def read_count():
    {body}
"""


def _root(app, scope: str = "", body: str = "return count()"):  # type: ignore[no-untyped-def]
    return app(ROUTES.replace("{body}", body), {"db/scoped.py": REGISTRY.replace("{scope}", scope)})


def test_a_route_on_a_thread_local_scoped_session_keeps_with_am132(app, reported, cli):
    root = _root(app)
    entry = reported(root, "read_count", "phase1", "--offload-mixed")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "api/items.py:14 (`ScopedSession.execute()`)" in entry["reasons"][0]
    assert not any(b["offloaded"] for b in entry["blocking"]), entry
    result = cli.json("check", root)
    [finding] = [f for f in result["findings"] if f["function"] == "read_count"]
    assert "scope it to the request" in finding["message"] and "run_in_threadpool" not in finding["message"]


@pytest.mark.parametrize(
    ("scope", "body"),
    [
        (", scopefunc=lambda: None", "return count()"),
        ("", "try:\n        return count()\n    finally:\n        ScopedSession.remove()"),
    ],
    ids=["request-scoped", "removes-its-own"],
)
def test_near_miss_a_request_scoped_registry_or_own_remove_converts(app, reported, scope, body):
    entry = reported(_root(app, scope, body), "read_count", "phase1")
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry
