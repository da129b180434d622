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
