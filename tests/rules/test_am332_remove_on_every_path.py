"""AM332 and work on a worker thread that removes its thread-local `scoped_session` itself: only a
`remove()` that runs however the work is left (in a `finally` around it) keeps it off the report;
one an exception skips leaves the worker's Session to the next request on that thread."""

from __future__ import annotations

import pytest

REGISTRY = """
from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

ScopedSession = scoped_session(database_sessionmaker)
"""

ROUTES = """
from sqlalchemy import text

from db.scoped import ScopedSession


def count():
    return ScopedSession.execute(text("select 1")).scalar()


@router.get("/count")
def read_count():
    {body}
"""


def _root(app, body: str):  # type: ignore[no-untyped-def]
    return app(ROUTES.replace("{body}", body), {"db/scoped.py": REGISTRY})


@pytest.mark.parametrize(
    "body",
    [
        "n = count()\n    ScopedSession.remove()\n    return n",
        "try:\n        n = count()\n    except Exception:\n        ScopedSession.remove()\n        raise\n    return n",
    ],
    ids=["inline", "except-only"],
)
def test_a_def_route_removing_outside_a_finally_reports_am332(app, findings, body):
    # before, any `remove()` in the route was taken for its teardown: no finding
    [finding] = findings(_root(app, body), "read_count")
    assert finding["code"] == "AM332", finding
    assert "runs only when nothing before it raises" in finding["message"], finding
    assert "call it in a `finally` around all the work on the registry" in finding["message"], finding


def test_near_miss_a_def_route_removing_in_a_finally_has_no_finding(app, findings):
    body = "try:\n        return count()\n    finally:\n        ScopedSession.remove()"
    assert findings(_root(app, body), "read_count") == []
