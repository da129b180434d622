"""AM331: a `def` route or dependency, run in a threadpool worker, uses a `scoped_session` keyed
on the asyncio task: `asyncio.current_task()` raises there and every request fails."""

from __future__ import annotations

import pytest

REGISTRY = """
import asyncio
import threading
from contextvars import ContextVar

from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

request_scope: ContextVar[object] = ContextVar("request_scope", default=None)


async def enter_request():
    request_scope.set(object())


def _task_scope():
    return id(asyncio.current_task())


ScopedSession = scoped_session(database_sessionmaker, scopefunc={scope})
"""

ROUTES = """
from fastapi import Depends
from sqlalchemy import text

from db.scoped import ScopedSession, enter_request


def count():
    return ScopedSession.execute(text("select 1")).scalar()


def get_db():
    return ScopedSession()


async def get_db_on_loop():
    return ScopedSession()


@router.get("/count", dependencies=[Depends(enter_request)])
{route}
"""


def _root(app, scope: str, route: str):  # type: ignore[no-untyped-def]
    return app(ROUTES.replace("{route}", route), {"db/scoped.py": REGISTRY.replace("{scope}", scope)})


@pytest.mark.parametrize(
    "scope",
    ["asyncio.current_task", "lambda: asyncio.current_task()", "lambda: id(asyncio.current_task())", "_task_scope"],
    ids=["direct", "lambda", "lambda-id", "project-function"],
)
@pytest.mark.parametrize(
    ("route", "function"),
    [
        ("def read_count():\n    return count()", "read_count"),
        ("def read_count(db=Depends(get_db)):\n    return 1", "get_db"),
    ],
    ids=["route-through-helper", "dependency"],
)
def test_a_def_handler_on_a_task_scoped_registry_is_reported(app, findings, scope, route, function):
    # Starlette runs a `def` route or dependency in a worker thread, with no running event loop:
    # the registry's `scopefunc` raises RuntimeError on every request.
    found = findings(_root(app, scope, route), function)
    assert [f["code"] for f in found] == ["AM331"], found
    assert "`asyncio.current_task()` raises RuntimeError" in found[0]["message"], found
    assert "whose scope is the asyncio task (db/scoped.py:" in found[0]["message"], found


@pytest.mark.parametrize(
    ("scope", "route"),
    [
        ("threading.get_ident", "def read_count():\n    return count()"),
        ("request_scope.get", "def read_count():\n    return count()"),
        ("lambda: request_scope.get()", "def read_count():\n    return count()"),
        # The Session was asked of the registry on the event loop, in the task: using it in the
        # worker thread calls no `scopefunc`.
        ("asyncio.current_task", "def read_count(db=Depends(get_db_on_loop)):\n    return db.execute(text('select 1'))"),
    ],
    ids=["thread-keyed", "request-scoped", "request-scoped-lambda", "handed-by-async-dependency"],
)
def test_near_miss_no_task_registry_reached_in_the_worker_is_not_am331(app, findings, scope, route):
    found = findings(_root(app, scope, route), "read_count")
    assert "AM331" not in [f["code"] for f in found], found


def test_a_pragma_silences_it(app, findings):
    route = "def read_count():  # async-migrate: ignore[AM331] served by a loop-bound runner\n    return count()"
    assert findings(_root(app, "asyncio.current_task", route), "read_count") == []
