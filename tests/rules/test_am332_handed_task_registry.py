"""A Session a dependency hands out from a `scoped_session` is judged by the registry's scope, as
the module-level registry is: one keyed on the asyncio task, made in an `async def` dependency
(which FastAPI runs in the request's own task), is that request's Session, which a `def` route
may use from its threadpool worker. One keyed on the thread is the event loop thread's, every
request's: AM332. A `def` dependency calling the task-keyed registry in a worker raises (AM331)."""

from __future__ import annotations

import pytest

REGISTRIES = """
import asyncio

from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

TaskSession = scoped_session(database_sessionmaker, scopefunc=asyncio.current_task)
ThreadSession = scoped_session(database_sessionmaker)
"""

APP = """
from fastapi import Depends, FastAPI
from sqlalchemy import text

from db.scoped import TaskSession, ThreadSession


DEPENDENCY get_db():
    db = REGISTRY()
    try:
        yield db
    finally:
        REGISTRY.remove()


app = FastAPI()


@app.get("/n")
def count(db=Depends(get_db)):
    return db.execute(text("select 1")).scalar_one()
"""


def _root(project, app_files, dependency: str, registry: str):  # type: ignore[no-untyped-def]
    main = APP.replace("DEPENDENCY", dependency).replace("REGISTRY", registry)
    return project({**app_files, "main.py": main, "db/scoped.py": REGISTRIES})


def test_near_miss_a_def_route_on_the_session_an_async_dependency_makes_from_a_task_keyed_registry_has_no_finding(
    project, app_files, findings
):
    # before: "the same Session for every request on the event loop thread", though the key is the
    # request's task
    assert findings(_root(project, app_files, "async def", "TaskSession"), "count") == []


def test_a_def_route_on_the_session_an_async_dependency_makes_from_a_thread_keyed_registry_reports_am332(
    project, app_files, findings
):
    [finding] = findings(_root(project, app_files, "async def", "ThreadSession"), "count")
    assert finding["code"] == "AM332", finding
    assert "whose scope is the thread" in finding["message"], finding
    assert "the same Session for every request on the event loop thread" in finding["message"], finding


@pytest.mark.parametrize("function", ["get_db", "count"])
def test_a_def_dependency_making_the_session_from_a_task_keyed_registry_is_still_reported(
    project, app_files, findings, function
):
    # no event loop runs in its worker: `asyncio.current_task()` raises for the dependency, and the
    # route it serves fails with it
    codes = [f["code"] for f in findings(_root(project, app_files, "def", "TaskSession"), function)]
    assert codes and set(codes) <= {"AM331", "AM332"}, codes
