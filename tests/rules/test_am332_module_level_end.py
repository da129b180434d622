"""AM332 and a module-level registry ended by its imported name: work a worker thread runs that
commits, rolls back or closes `ScopedSession` (imported, or as `scoped.ScopedSession`) in a
`finally` around its use leaves no transaction there, as the same work on `self.session` does.
An end on the event loop thread (a middleware's `finally` around the handing over) ends only
that thread's Session: still reported."""

from __future__ import annotations

import pytest

REGISTRY = """
from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

ScopedSession = scoped_session(database_sessionmaker)
"""

APP = """
from fastapi import FastAPI
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from db import scoped
from db.scoped import ScopedSession


def work():
    try:
        REGISTRY.execute(text("select 1"))
    finally:
        REGISTRY.END()


def plain():
    ScopedSession.execute(text("select 1"))


app = FastAPI()


@app.get("/report")
async def report():
    await run_in_threadpool(work)
    return {}


@app.middleware("http")
async def per_request(request, call_next):
    try:
        await run_in_threadpool(plain)
        return await call_next(request)
    finally:
        ScopedSession.close()
"""


def _root(project, app_files, registry: str, end: str):  # type: ignore[no-untyped-def]
    main = APP.replace("REGISTRY", registry).replace("END", end)
    return project({**app_files, "main.py": main, "db/__init__.py": "", "db/scoped.py": REGISTRY})


@pytest.mark.parametrize("registry", ["ScopedSession", "scoped.ScopedSession"], ids=["imported", "module-attribute"])
@pytest.mark.parametrize("end", ["close", "rollback", "commit"])
def test_near_miss_work_ending_a_module_level_registry_in_a_finally_has_no_finding(
    project, app_files, findings, registry, end
):
    # before, only a registry held on an attribute (`self.session.close()`) was seen ending
    assert findings(_root(project, app_files, registry, end), "report") == []


def test_work_ending_a_module_level_registry_on_the_loop_thread_reports_am332(project, app_files, findings):
    [finding] = [f for f in findings(_root(project, app_files, "ScopedSession", "close"), "per_request")
                 if f["code"] == "AM332"]
    assert "hands `plain` to a worker thread" in finding["message"], finding
