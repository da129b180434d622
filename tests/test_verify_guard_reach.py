"""The blocking guard's reach beyond the FastAPI application's own request: a pure ASGI
middleware wrapping it, and tasks the lifespan starts while the application serves."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient


def _application(guard: ModuleType, tmp_path: Path, source: str, **names: Any) -> dict[str, Any]:
    """`source` run as a module of the service under test (its file in `tmp_path`), with a
    watcher whose `blocking` stands for a synchronous Session statement."""
    watcher = guard._Guard()
    watcher.root = tmp_path
    namespace: dict[str, Any] = {"watcher": watcher, "asyncio": asyncio, **names}
    exec(compile(source, str(tmp_path / "service.py"), "exec"), namespace)
    return namespace


AUDIT = '''
class Audit:
    """Writes an audit row before handing the request on: a pure ASGI middleware."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            watcher.blocking("SQL execute (INSERT)")
        await self.app(scope, receive, send)


async def outside_requests():
    watcher.blocking("SQL execute (SELECT)")
'''


def _items() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict:
        return {"id": item_id}

    return app


def test_blocking_in_a_pure_asgi_middleware_around_the_application_is_caught_with_testclient(guard_plugin, tmp_path):
    service = _application(guard_plugin, tmp_path, AUDIT)
    wrapped = service["Audit"](_items())
    client = TestClient(wrapped)
    assert client.app is wrapped  # the client's own attribute is the application still
    assert client.get("/items/7").status_code == 200
    (event,) = service["watcher"].take()
    assert (event["kind"], event["where"], event["request"]) == (
        "blocking", "service.py:10 in Audit.__call__", "GET /items/7",
    )
    # near miss: the same statement in test code on the loop, outside any request
    asyncio.run(service["outside_requests"]())
    assert service["watcher"].take() == []


def test_blocking_in_a_pure_asgi_middleware_around_the_application_is_caught_with_httpx(guard_plugin, tmp_path):
    service = _application(guard_plugin, tmp_path, AUDIT)

    async def call() -> int:
        transport = httpx.ASGITransport(app=service["Audit"](_items()))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return (await client.get("/items/7")).status_code

    assert asyncio.run(call()) == 200
    (event,) = service["watcher"].take()
    assert event["where"] == "service.py:10 in Audit.__call__"


JOBS = '''
from contextlib import asynccontextmanager


async def warm_up():
    watcher.blocking("SQL execute (SELECT)")


async def poll(wake, done):
    await wake.wait()
    watcher.blocking("SQL execute (UPDATE)")
    done.set()


@asynccontextmanager
async def lifespan(app):
    watcher.blocking("SQL execute (CREATE)")  # start-up: before the first request
    await asyncio.create_task(warm_up())  # a task of the start-up, done before serving
    wake = asyncio.Event()
    app.state.wake = wake
    task = asyncio.create_task(poll(wake, done))
    yield
    task.cancel()
'''


def test_blocking_in_a_task_the_lifespan_started_is_caught_while_the_application_serves(guard_plugin, tmp_path):
    done = threading.Event()
    service = _application(guard_plugin, tmp_path, JOBS, done=done)
    app = FastAPI(lifespan=service["lifespan"])

    @app.post("/wake")
    async def wake() -> dict:
        app.state.wake.set()
        return {}

    with TestClient(app) as client:
        # near miss: the lifespan's start-up, and the task it awaited there, stall no request
        assert service["watcher"].take() == []
        assert client.post("/wake").status_code == 200
        assert done.wait(10)
    (event,) = service["watcher"].take()
    assert (event["where"], event["request"]) == ("service.py:11 in poll", guard_plugin.LIFESPAN_TASK)
