"""AM138 (and AM117) through objects the call graph does not type: a method of a project class
that needs the event loop, run on what the application's state keeps (`request.app.state.bus.
publish(x)`, `app.state.bus = Bus()` in the lifespan), on what a dependency returns, on an item
of a container of holders; subclasses of asyncio's primitives; properties handing one back. Where
the receiver cannot be read, a call that may be such a method or a primitive's keeps the route,
unverified; the thread-safe counterparts convert."""

from __future__ import annotations

import pytest

BUS = """
import asyncio
import queue
import threading
from dataclasses import dataclass, field
from functools import cached_property

import trio
from fastapi import Request


class Bus:
    def __init__(self):
        self._queue = asyncio.Queue()

    def publish(self, x):
        self._queue.put_nowait(x)

    def relay(self, x):
        self.publish(x)


class SafeBus:
    def __init__(self):
        self._queue = queue.Queue()

    def publish(self, x):
        self._queue.put_nowait(x)


class Scheduler:
    def __init__(self):
        self._loop = asyncio.get_running_loop()

    def schedule(self, job):
        self._loop.call_soon(job)


def make_bus():
    return Bus()


def announce(request: Request, x):
    request.app.state.bus.publish(x)


def ping(holder, x):
    holder.publish(x)


class MyQueue(asyncio.Queue):
    pass


class Inbox(MyQueue):
    pass


class MyEvent(asyncio.Event):
    pass


class Latch(threading.Event):
    pass


@dataclass
class Slots:
    inbox: Inbox = field(default_factory=Inbox)


class Holder:
    def __init__(self):
        self.q = MyQueue()
        self.e = MyEvent()
        self.latch = Latch()
        self._changed = asyncio.Event()
        self._done = threading.Event()

    @property
    def changed(self):
        return self._changed

    @property
    def typed(self) -> asyncio.Event:
        return self._changed

    @cached_property
    def cached(self):
        return self._changed

    @property
    def done(self):
        return self._done

    def notify(self):
        self.changed.set()


class Outer:
    def __init__(self):
        self.inner = Holder()


OUTERS = {"a": Outer()}
HOLDER = Holder()
SLOTS = Slots()
MAILBOX = Inbox()
SEND, RECEIVE = trio.open_memory_channel(10)
"""

LIFESPAN = """
import asyncio
from contextlib import asynccontextmanager

import vendor
from fastapi import FastAPI

from services.bus import Bus, SafeBus, Scheduler, make_bus


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.bus = Bus()
    app.state.safe = SafeBus()
    app.state.made = make_bus()
    app.state.scheduler = Scheduler()
    app.state.vendor = vendor.connect()
    app.state.runner = asyncio.get_running_loop()
    install(app, Bus())
    yield


def install(app: FastAPI, thing):
    app.state.opaque = thing
"""

STARTUP = """
from fastapi import FastAPI

from services.bus import Bus

app = FastAPI()


@app.on_event("startup")
async def start():
    app.state.started = Bus()
"""

DEPS = """
from fastapi import Request


def get_bus(request: Request):
    return request.app.state.bus
"""

FILES = {
    "services/__init__.py": "",
    "services/bus.py": BUS,
    "services/lifespan.py": LIFESPAN,
    "services/startup.py": STARTUP,
    "services/deps.py": DEPS,
}


def route(body: str) -> str:
    return f"""
        from fastapi import Depends, Request

        from services import bus, deps


        @router.post("/items/{{name}}")
        async def create(name: str, request: Request, session: session_dependency, b=Depends(deps.get_bus)):
            session.execute("select 1")
            {body}
        """


def decided(app, reported, body: str) -> dict:  # type: ignore[no-untyped-def]
    return reported(app(route(body), FILES), "create", "phase1")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("request.app.state.bus.publish(name)", "services.bus.Bus.publish (line 16), which calls self._queue.put_nowait()"),
        ("kept = request.app.state.bus\n            kept.publish(name)", "services.bus.Bus.publish (line 17)"),
        ("request.app.state.bus.relay(name)", "services.bus.Bus.relay (line 16) -> services.bus.Bus.publish"),
        ("request.app.state.made.publish(name)", "services.bus.Bus.publish (line 16)"),
        ("request.app.state.started.publish(name)", "services.bus.Bus.publish (line 16)"),
        ("b.publish(name)", "services.bus.Bus.publish (line 16)"),
        ("bus.announce(request, name)", "services.bus.announce (line 16) -> services.bus.Bus.publish"),
    ],
)
def test_a_method_needing_the_loop_on_what_the_state_keeps_keeps_the_route(app, reported, body, fragment):
    entry = decided(app, reported, body)
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert fragment in entry["reasons"][0], entry["reasons"]
    assert "on an asyncio.Queue at services/bus.py" in entry["reasons"][0], entry["reasons"]
    assert "unverified" not in entry["reasons"][0], entry["reasons"]


def test_a_method_scheduling_on_a_kept_loop_keeps_the_route(app, reported):
    entry = decided(app, reported, "request.app.state.scheduler.schedule(print)")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM117"), entry
    assert "services.bus.Scheduler.schedule (line 16)" in entry["reasons"][0], entry["reasons"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("bus.HOLDER.q.put_nowait(name)", "HOLDER.q.put_nowait() on an asyncio.Queue"),
        ("bus.HOLDER.e.set()", "HOLDER.e.set() on an asyncio.Event"),
        ("bus.MAILBOX.put_nowait(name)", "MAILBOX.put_nowait() on an asyncio.Queue"),
        ("bus.SLOTS.inbox.put_nowait(name)", "SLOTS.inbox.put_nowait() on an asyncio.Queue"),
        ("bus.OUTERS[name].inner.q.put_nowait(name)", "OUTERS[...].inner.q.put_nowait() on an asyncio.Queue"),
        ("x = bus.OUTERS[name].inner\n            x.q.put_nowait(name)", "x.q.put_nowait() on an asyncio.Queue"),
        ("x = bus.OUTERS[name].inner.e\n            x.set()", "x.set() on an asyncio.Event"),
        ("bus.HOLDER.changed.set()", "HOLDER.changed.set() on an asyncio.Event"),
        ("bus.HOLDER.typed.set()", "HOLDER.typed.set() on an asyncio.Event"),
        ("bus.HOLDER.cached.set()", "HOLDER.cached.set() on an asyncio.Event"),
        ("bus.HOLDER.notify()", "services.bus.Holder.notify (line 16), which calls self.changed.set() on an asyncio.Event"),
        ("bus.SEND.send_nowait(name)", "SEND.send_nowait() on a trio memory channel"),
        ("request.app.state.runner.create_future()", "runner.create_future() on an asyncio.AbstractEventLoop"),
        ("runner = request.app.state.runner\n            runner.call_later(1, print)", "runner.call_later() on an asyncio"),
    ],
)
def test_subclasses_properties_and_holders_in_containers_keep_the_route(app, reported, body, fragment):
    entry = decided(app, reported, body)
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert fragment in entry["reasons"][0], entry["reasons"]
    assert "unverified" not in entry["reasons"][0], entry["reasons"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("request.app.state.opaque.publish(name)", "the analysis cannot type what `request.app.state.opaque.publish()`"),
        ("bus.ping(request.app.state.bus, name)", "the analysis cannot type what `holder.publish()`"),
        ("request.app.state.missing.set()", "request.app.state.missing.set() on what the analysis cannot type"),
        ("request.app.state.opaque.set()", "request.app.state.opaque.set() on what the analysis cannot type"),
        ("(request.app.state.a or request.app.state.b).set()", "(...).set() on an expression the analysis cannot read"),
        ("(request.app.state.a or bus.HOLDER.q).put_nowait(name)", "(...).put_nowait() on an expression"),
        ("request.app.state.missing.create_future()", "request.app.state.missing.create_future() on what the analysis"),
    ],
)
def test_what_the_analysis_cannot_read_keeps_the_route_unverified(app, reported, body, fragment):
    entry = decided(app, reported, body)
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert fragment in entry["reasons"][0], entry["reasons"]
    assert "unverified" in entry["reasons"][0], entry["reasons"]


@pytest.mark.parametrize(
    "body",
    [
        "request.app.state.safe.publish(name)",
        "request.app.state.opaque.set(name, 1)",
        "request.app.state.opaque.close()",
        "request.app.state.vendor.publish(name)",
        "request.app.state.vendor.set()",
        "bus.HOLDER.latch.set()",
        "bus.HOLDER.done.set()",
        "x = bus.OUTERS[name].inner.latch\n            x.set()",
        "bus.HOLDER.q.qsize()",
    ],
)
def test_near_miss_thread_safe_or_unrelated_methods_convert(app, reported, body):
    assert decided(app, reported, body)["codes"] == ["AM101"]

