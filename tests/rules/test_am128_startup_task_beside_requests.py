"""AM128 for a startup handler scheduling a task (`asyncio.create_task(_retention_loop())`): the
task outlives the handler and blocks the loop beside the requests, so its engine work is not
"run once, before the first request" (AM133's words for the handler's own startup work)."""

from __future__ import annotations

import pytest

MAIN = """\
import asyncio

from fastapi import FastAPI
from sqlalchemy import create_engine, text

app = FastAPI()
engine = create_engine("sqlite:///./t.db")


def prune():
    with engine.begin() as conn:
        conn.execute(text("delete from t"))


async def _retention_loop():
    while True:
        prune()
        await asyncio.sleep(30)


@app.on_event("startup")
async def start():
    {body}
"""


def test_a_scheduled_loop_is_said_to_run_beside_the_requests(project, reported):
    # feast's registry server: the message said the loop runs once before the first request and
    # blocks no request, then, in the same sentence, that it blocks the event loop.
    root = project({"app/__init__.py": "", "app/main.py": MAIN.format(body="asyncio.create_task(_retention_loop())")})
    found = reported(root, "start", "phase1")
    text = " ".join(found["reasons"])
    assert "runs once" not in text and "blocks no request" not in text, text
    task = found["reasons"][found["codes"].index("AM128")]
    assert task.startswith(
        "schedules the coroutine function app.main._retention_loop at line 23, which blocks the event loop at "
        "app/main.py:11 (engine.begin()), each time it runs, beside the requests (it is no startup step run once "
        "before them)"
    ), task


@pytest.mark.parametrize("body", ["prune()", "await _retention_loop()"])
def test_near_miss_work_the_handler_runs_itself_runs_once_before_the_first_request(project, reported, body):
    root = project({"app/__init__.py": "", "app/main.py": MAIN.format(body=body)})
    found = reported(root, "start", "phase1")
    [hook] = [r for c, r in zip(found["codes"], found["reasons"]) if c == "AM133"]
    assert "runs once on the event loop, before the first request or after the last" in hook, hook
    assert "AM128" not in found["codes"], found


SESSION_MAIN = """\
import asyncio

from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import DeclarativeBase, sessionmaker

app = FastAPI()
engine = create_engine("sqlite:///./t.db")
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


def drain_once():
    with SessionLocal() as db:
        db.execute(text("delete from outbox"))
        db.commit()


async def drain_forever():
    while True:
        drain_once()
        await asyncio.sleep(5)


@app.on_event("startup")
async def start():
    {body}
"""


@pytest.mark.parametrize("create_all", [False, True])
def test_a_scheduled_session_loop_is_not_said_to_run_once(project, reported, create_all):
    # A new-user trial's outbox drain: the handler's reason said its "synchronous Session work runs once
    # on the event loop ... blocks no request", and the task note beside it that it blocks beside them.
    body = "asyncio.create_task(drain_forever())"
    if create_all:
        body = "Base.metadata.create_all(engine)\n    " + body
    root = project({"app/__init__.py": "", "app/main.py": SESSION_MAIN.format(body=body)})
    found = reported(root, "start", "phase1")
    [hook] = [r for c, r in zip(found["codes"], found["reasons"]) if c == "AM133"]
    assert "synchronous Session work runs once" not in hook, hook
    assert "does no synchronous Session work of its own: what it reaches is in the coroutine it schedules" in hook
    assert ("engine work at line 30 (`metadata.create_all()`) runs once" in hook) is create_all, hook
    assert "AM128" in found["codes"], found


def test_near_miss_session_work_the_startup_handler_does_itself_runs_once(project, reported):
    body = "drain_once()\n    asyncio.create_task(drain_forever())"
    root = project({"app/__init__.py": "", "app/main.py": SESSION_MAIN.format(body=body)})
    found = reported(root, "start", "phase1")
    [hook] = [r for c, r in zip(found["codes"], found["reasons"]) if c == "AM133"]
    assert "its synchronous Session work runs once on the event loop" in hook, hook
