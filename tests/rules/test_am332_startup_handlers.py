"""AM332 on a startup handler or lifespan handing work on a thread-local `scoped_session` to a
worker thread: that worker keeps the Session (its transaction and connection) into the requests
it serves later. A plain `def` startup handler runs on the event loop thread itself."""

from __future__ import annotations

import pytest

REGISTRY = """
from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

ScopedSession = scoped_session(database_sessionmaker)
"""

APP = """
import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from db.scoped import ScopedSession


def seed():
    ScopedSession.execute(text("select 1"))


def seed_and_remove():
    try:
        ScopedSession.execute(text("select 1"))
    finally:
        ScopedSession.remove()


HOOK
"""

LIFESPAN = """
@asynccontextmanager
async def warm(app):
    await run_in_threadpool(HELPER)
    yield


app = FastAPI(lifespan=warm)
"""

ON_EVENT = """
app = FastAPI()


@app.on_event("startup")
async def warm():
    await asyncio.to_thread(HELPER)
"""

ON_EVENT_DEF = """
app = FastAPI()


@app.on_event("startup")
def warm():
    seed()
"""


def _root(project, app_files, hook: str, helper: str = "seed"):  # type: ignore[no-untyped-def]
    main = APP.replace("HOOK", hook.replace("HELPER", helper).strip("\n"))
    main += '\n\n@app.get("/ping")\nasync def ping():\n    return {}\n'
    return project({**app_files, "main.py": main, "db/scoped.py": REGISTRY})


@pytest.mark.parametrize("hook", [LIFESPAN, ON_EVENT], ids=["lifespan", "on-event"])
def test_a_startup_handler_offloading_registry_work_reports_am332(project, app_files, findings, hook):
    # before, `check` judged only the tasks a startup handler schedules: no finding
    [finding] = findings(_root(project, app_files, hook), "warm")
    assert finding["code"] == "AM332", finding
    assert "startup/shutdown handler hands `seed` to a worker thread" in finding["message"], finding


@pytest.mark.parametrize(
    ("hook", "helper"),
    [(LIFESPAN, "seed_and_remove"), (ON_EVENT, "seed_and_remove"), (ON_EVENT_DEF, "seed")],
    ids=["lifespan-removes", "on-event-removes", "def-on-the-loop"],
)
def test_near_miss_a_startup_handler_removing_in_the_worker_or_on_the_loop_has_no_finding(
    project, app_files, findings, hook, helper
):
    assert findings(_root(project, app_files, hook, helper), "warm") == []
