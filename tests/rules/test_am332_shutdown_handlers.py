"""AM332 and the shutdown side of lifecycle handlers: work a shutdown handler (or a lifespan below
its `yield`) hands to a worker thread runs after the last request, so no request gets that
worker's Session and a `remove()` handed over there ends none. The same work at startup (or
above the `yield`) is still reported."""

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


HOOK


@app.get("/ping")
async def ping():
    return {}
"""

LIFESPAN = """
@asynccontextmanager
async def cycle(app):
    BEFORE
    yield
    AFTER


app = FastAPI(lifespan=cycle)
"""

ON_EVENT = """
app = FastAPI()


@app.on_event("EVENT")
async def cycle():
    WORK
"""

ADDED = """
async def cycle():
    WORK


app = FastAPI()
app.add_event_handler("EVENT", cycle)
"""

KEYWORD = """
async def cycle():
    WORK


app = FastAPI(on_EVENT=[cycle])
"""

OFFLOAD = "await asyncio.to_thread(seed)"
REMOVE = "await run_in_threadpool(ScopedSession.remove)"


def _root(project, app_files, hook: str):  # type: ignore[no-untyped-def]
    return project({**app_files, "main.py": APP.replace("HOOK", hook.strip("\n")), "db/scoped.py": REGISTRY})


def _event(shape: str, event: str, work: str) -> str:
    return shape.replace("EVENT", event).replace("WORK", work)


@pytest.mark.parametrize("shape", [ON_EVENT, ADDED, KEYWORD], ids=["on-event", "add-event-handler", "keyword"])
@pytest.mark.parametrize("work", [OFFLOAD, REMOVE], ids=["offloaded-work", "offloaded-remove"])
def test_near_miss_a_shutdown_handler_handing_registry_work_to_a_worker_has_no_finding(
    project, app_files, findings, shape, work
):
    # before, a shutdown handler was judged as a startup one: "the worker keeps that Session into
    # the requests it serves later", though none comes after shutdown
    assert findings(_root(project, app_files, _event(shape, "shutdown", work)), "cycle") == []


@pytest.mark.parametrize("shape", [ON_EVENT, ADDED, KEYWORD], ids=["on-event", "add-event-handler", "keyword"])
@pytest.mark.parametrize("work", [OFFLOAD, REMOVE], ids=["offloaded-work", "offloaded-remove"])
def test_a_startup_handler_handing_registry_work_to_a_worker_reports_am332(project, app_files, findings, shape, work):
    [finding] = findings(_root(project, app_files, _event(shape, "startup", work)), "cycle")
    assert finding["code"] == "AM332", finding
    assert "startup/shutdown handler hands" in finding["message"], finding


def test_near_miss_a_lifespan_handing_registry_work_to_a_worker_after_its_yield_has_no_finding(
    project, app_files, findings
):
    hook = LIFESPAN.replace("BEFORE", "pass").replace("AFTER", OFFLOAD)
    assert findings(_root(project, app_files, hook), "cycle") == []


@pytest.mark.parametrize("work", [OFFLOAD, REMOVE], ids=["offloaded-work", "offloaded-remove"])
def test_a_lifespan_handing_registry_work_to_a_worker_before_its_yield_reports_am332(
    project, app_files, findings, work
):
    # the same lifespan: its code above the `yield` runs at startup
    hook = LIFESPAN.replace("BEFORE", work).replace("AFTER", OFFLOAD)
    [finding] = findings(_root(project, app_files, hook), "cycle")
    assert finding["code"] == "AM332", finding
    assert "at line 17" in finding["message"] and "more such use" not in finding["message"], finding
