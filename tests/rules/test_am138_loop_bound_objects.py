"""AM138 loop-bound-primitive: task groups, nurseries and event loops kept where a route reaches
them (the application's state, a module global, a class or dataclass field, a typed local), and
asyncio primitives held in dataclass fields or in copies of annotated containers, keep the route
`async def`; the thread-safe counterparts and project methods of the same name convert."""

from __future__ import annotations

import pytest

# A lifespan keeping what it enters or asks for: a route calling them from a worker thread
# raises (anyio's NoEventLoopError) or touches the loop from the wrong thread.
STATE = """
import asyncio
import threading
from contextlib import asynccontextmanager

import anyio
from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import FastAPI

TASKS: asyncio.TaskGroup | None = None
LATER = None


@asynccontextmanager
async def lifespan(app: FastAPI):
    global LATER
    app.state.evl = asyncio.get_running_loop()
    app.state.latch = threading.Event()
    app.state.sched = BackgroundScheduler()
    async with anyio.create_task_group() as tg, asyncio.TaskGroup() as atg:
        app.state.tg = tg
        app.state.atg = atg
        LATER = atg
        yield
"""

# Rooms a long poll waits on: the event lives in a dataclass field.
ROOMS = """
import asyncio
import threading
from dataclasses import dataclass, field


@dataclass
class Room:
    name: str
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    latch: threading.Event = field(default_factory=threading.Event)


ROOMS: dict[str, Room] = {}


def room(name: str) -> Room:
    return ROOMS.setdefault(name, Room(name))


class Worker:
    async def run(self):
        async with asyncio.TaskGroup() as tg:
            self.tg = tg

    def spawn(self, job):
        self.tg.create_task(job())


WORKER = Worker()
"""

# A broadcaster iterating a copy of its annotated set of queues.
BUS = """
import asyncio
import queue


class Broadcaster:
    def __init__(self) -> None:
        self.subscribers: set[asyncio.Queue[str]] = set()
        self.threaded: set[queue.Queue[str]] = set()

    def publish(self, msg: str) -> None:
        for q in list(self.subscribers):
            q.put_nowait(msg)

    def publish_sorted(self, msg: str) -> None:
        for q in sorted(self.subscribers, key=id):
            q.put_nowait(msg)

    def publish_threaded(self, msg: str) -> None:
        for q in list(self.threaded):
            q.put_nowait(msg)


broadcaster = Broadcaster()
"""

CRUD = """
def create_task(db, title):
    db.execute("insert")
"""

FILES = {
    "services/__init__.py": "",
    "services/state.py": STATE,
    "services/rooms.py": ROOMS,
    "services/bus.py": BUS,
    "services/crud.py": CRUD,
}


def route(body: str) -> str:
    return f"""
        from fastapi import Request

        from services import crud, rooms, state
        from services.bus import broadcaster


        async def audit():
            pass


        @router.post("/items/{{name}}")
        async def create(name: str, request: Request, session: session_dependency):
            session.execute("select 1")
            {body}
        """


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("request.app.state.tg.start_soon(audit)", "request.app.state.tg.start_soon() on an anyio.abc.TaskGroup"),
        ("request.app.state.atg.create_task(audit())", "request.app.state.atg.create_task() on an asyncio.TaskGroup"),
        ("state.TASKS.create_task(audit())", "TASKS.create_task() on an asyncio.TaskGroup"),
        ("state.LATER.create_task(audit())", "LATER.create_task() on an asyncio.TaskGroup"),
        ("request.app.state.evl.call_soon(print)", "request.app.state.evl.call_soon() on an asyncio.AbstractEventLoop"),
        ("rooms.WORKER.spawn(audit)", "which calls self.tg.create_task() on an asyncio.TaskGroup"),
    ],
)
def test_a_task_group_or_loop_the_route_reaches_keeps_it(app, reported, body, fragment):
    entry = reported(app(route(body), FILES), "create", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert fragment in entry["reasons"][0], entry["reasons"]
    assert "starting a task or scheduling a callback raises" in entry["reasons"][0], entry["reasons"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("r = rooms.room(name)\n            r.changed.set()", "r.changed.set() on an asyncio.Event"),
        ("for r in rooms.ROOMS.values():\n                r.changed.set()", "r.changed.set() on an asyncio.Event"),
        ("broadcaster.publish(name)", "which calls q.put_nowait() on an asyncio.Queue"),
        ("broadcaster.publish_sorted(name)", "which calls q.put_nowait() on an asyncio.Queue"),
    ],
)
def test_a_primitive_in_a_dataclass_field_or_a_copied_container_keeps_the_route(app, reported, body, fragment):
    entry = reported(app(route(body), FILES), "create", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert fragment in entry["reasons"][0], entry["reasons"]
    assert "unverified" not in entry["reasons"][0], entry["reasons"]


def test_a_state_attribute_set_nowhere_with_a_task_group_method_keeps_it_unverified(app, reported):
    entry = reported(app(route("request.app.state.jobs.start_soon(audit)"), FILES), "create", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert "request.app.state.jobs.start_soon() on what the analysis cannot type (unverified" in entry["reasons"][0]


@pytest.mark.parametrize(
    "body",
    [
        "request.app.state.evl.call_soon_threadsafe(print)",
        "request.app.state.latch.set()",
        "request.app.state.sched.call_later(audit)",
        "rooms.room(name).latch.set()\n            r = rooms.room(name)\n            r.latch.set()",
        "broadcaster.publish_threaded(name)",
        "crud.create_task(session, name)",
    ],
)
def test_near_miss_thread_safe_calls_and_project_methods_convert(app, reported, body):
    assert reported(app(route(body), FILES), "create", "phase1")["codes"] == ["AM101"]


def test_check_reports_the_blocking_work_of_a_route_kept_for_its_task_group(app, findings):
    found = findings(app(route("request.app.state.tg.start_soon(audit)"), FILES), "create")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "start_soon() on an anyio.abc.TaskGroup" in found[0]["message"], found
