"""Phase one keeps a route whose helper puts on an asyncio.Queue: run, the kept service wakes the
consumer awaiting the queue. The same route made `def` by hand puts from a worker thread: the event
loop's debug mode rejects the call (500) and the consumer awaiting the queue hangs."""

from __future__ import annotations

import os
import textwrap

from sample import run_json

MAIN = """
import asyncio

from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

engine = create_engine("sqlite:///./x.db", connect_args={"check_same_thread": False})
EVENTS: asyncio.Queue = asyncio.Queue()

app = FastAPI()


def publish(name: str) -> None:
    EVENTS.put_nowait({"created": name})


@app.post("/items")
async def create(name: str):
    with Session(engine) as session:
        session.execute(text("select 1"))
    publish(name)
    return {"ok": True}


@app.get("/next")
async def next_event():
    return await asyncio.wait_for(EVENTS.get(), 5)
"""
LOAD = """
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as Timeout

from fastapi.testclient import TestClient

from main import app

client = TestClient(app, raise_server_exceptions=False).__enter__()
pool = ThreadPoolExecutor(2)
waiting = pool.submit(client.get, "/next")
time.sleep(0.5)  # the consumer is awaiting the queue before the route puts on it
outcome = {"created": client.post("/items", params={"name": "a"}).status_code}
try:
    received = waiting.result(timeout=8)
    outcome.update(received=received.status_code, event=received.json())
except Timeout:
    outcome.update(received=None)  # the consumer hangs, past its own wait_for timeout
print(json.dumps(outcome), flush=True)
os._exit(0)  # leaving the client would wait for a hung consumer
"""


def run(root) -> dict:  # type: ignore[no-untyped-def]
    environment = {**os.environ, "PYTHONASYNCIODEBUG": "1"}
    return run_json(textwrap.dedent(LOAD), cwd=root, env=environment, timeout=60)


def build(tmp_path, source: str):  # type: ignore[no-untyped-def]
    root = tmp_path / "app"
    root.mkdir()
    (root / "main.py").write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return root


def test_a_route_publishing_on_an_asyncio_queue_is_kept_and_wakes_the_consumer(cli, tmp_path):
    root = build(tmp_path, MAIN)
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    (entry,) = [h for h in document["handlers"] if h["function"] == "create"]
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert "\nasync def create(" in (root / "main.py").read_text()
    assert run(root) == {"created": 200, "received": 200, "event": {"created": "a"}}


def test_control_the_same_route_as_def_puts_from_a_worker_thread(tmp_path):
    root = build(tmp_path, MAIN.replace("async def create(", "def create("))
    assert run(root) == {"created": 500, "received": None}  # RuntimeError: non-thread-safe operation
