"""AM138 loop-bound-primitive through chains: an asyncio primitive or an anyio memory object stream
reached through items and attributes at any depth (`ROOMS[name].changed.set()`,
`OUTER.inner.q.put_nowait()`), held by attrs fields and dataclass factories with no annotation
saying so, by attributes `__init__` assigns without annotation, or unpacked from
`anyio.create_memory_object_stream()`, keeps the route; the thread-safe counterparts convert."""

from __future__ import annotations

import pytest

HUB = """
import asyncio
import queue
import threading
from dataclasses import dataclass, field

import anyio
import attr


@attr.s
class Room:
    changed = attr.ib(factory=asyncio.Event)
    latch = attr.ib(factory=threading.Event)
    waiting = attr.ib(default=attr.Factory(asyncio.Queue))


@dataclass
class Box:
    pending: object = field(default_factory=lambda: asyncio.Queue(10))
    plain: queue.Queue = field(default_factory=queue.Queue)


class Channel:
    def __init__(self):
        self.q = asyncio.Queue()
        self.safe = queue.Queue()
        self.latch = threading.Event()
        self.send, self.recv = anyio.create_memory_object_stream(10)


class Outer:
    def __init__(self):
        self.inner = Channel()
        self.room = Room()


ROOMS = {}
LOBBIES = {"main": Room()}
LATCHES = [threading.Event()]
TYPED: dict[str, Outer] = {}
CHANNELS = {}


def add_room(name):
    ROOMS[name] = Room()


def channel(name):
    return CHANNELS.setdefault(name, Channel())


def notify(holder, name):
    holder.inner.q.put_nowait(name)


class Rooms:
    def __init__(self):
        self.rooms = {}

    def open(self, name):
        self.rooms[name] = Outer()

    def wake(self, name):
        self.rooms[name].room.changed.set()


class Mailer:
    def notify(self, user):
        pass


def send_mail(mailer, user):
    mailer.notify(user)


OUTER = Outer()
BOX = Box()
ROOMS_HUB = Rooms()
SEND, RECV = anyio.create_memory_object_stream[str](100)
"""

LIFESPAN = """
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from services.hub import Outer


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.hub = Outer()
    app.state.send, app.state.recv = anyio.create_memory_object_stream(10)
    yield
"""

FILES = {"services/__init__.py": "", "services/hub.py": HUB, "services/lifespan.py": LIFESPAN}


def route(body: str) -> str:
    return f"""
        from fastapi import Request

        from services import hub


        @router.post("/items/{{name}}")
        async def create(name: str, request: Request, session: session_dependency):
            session.execute("select 1")
            {body}
        """


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("hub.ROOMS[name].changed.set()", "ROOMS[...].changed.set() on an asyncio.Event"),
        ("hub.TYPED[name].inner.q.put_nowait(name)", "TYPED[...].inner.q.put_nowait() on an asyncio.Queue"),
        ("hub.TYPED[name].room.waiting.put_nowait(name)", "TYPED[...].room.waiting.put_nowait() on an asyncio.Queue"),
        ("hub.channel(name).q.put_nowait(name)", "channel().q.put_nowait() on an asyncio.Queue"),
        ("hub.OUTER.room.changed.set()", "OUTER.room.changed.set() on an asyncio.Event"),
        ("o = hub.OUTER\n            o.inner.q.put_nowait(name)", "o.inner.q.put_nowait() on an asyncio.Queue"),
        ("hub.BOX.pending.put_nowait(name)", "BOX.pending.put_nowait() on an asyncio.Queue"),
        ("hub.SEND.send_nowait(name)", "SEND.send_nowait() on an anyio memory object stream"),
        ("hub.OUTER.inner.send.send_nowait(name)", "OUTER.inner.send.send_nowait() on an anyio memory object stream"),
        ("for r in hub.ROOMS.values():\n                r.changed.set()", "r.changed.set() on an asyncio.Event"),
        ("hub.LOBBIES[name].waiting.put_nowait(name)", "LOBBIES[...].waiting.put_nowait() on an asyncio.Queue"),
        ("hub.ROOMS_HUB.wake(name)", "which calls self.rooms[...].room.changed.set() on an asyncio.Event"),
        ("request.app.state.hub.inner.q.put_nowait(name)", "request.app.state.hub.inner.q.put_nowait() on an asyncio.Queue"),
        ("request.app.state.send.send_nowait(name)", "request.app.state.send.send_nowait() on an anyio memory object stream"),
    ],
)
def test_a_primitive_at_the_end_of_a_chain_keeps_the_route(app, reported, body, fragment):
    entry = reported(app(route(body), FILES), "create", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert fragment in entry["reasons"][0], entry["reasons"]
    assert "unverified" not in entry["reasons"][0], entry["reasons"]


def test_a_chain_on_what_nothing_types_keeps_the_route_unverified(app, reported):
    entry = reported(app(route("hub.notify(hub.OUTER, name)"), FILES), "create", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert "holder.inner.q.put_nowait() on what the analysis cannot type (unverified" in entry["reasons"][0]


@pytest.mark.parametrize(
    "body",
    [
        "hub.ROOMS[name].latch.set()",
        "hub.LOBBIES[name].latch.set()",
        "hub.LATCHES[0].set()",
        "hub.ROOMS[name].changed.is_set()",
        "hub.TYPED[name].inner.safe.put_nowait(name)",
        "hub.OUTER.inner.latch.set()",
        "hub.OUTER.room.latch.set()",
        "hub.BOX.plain.put_nowait(name)",
        "hub.channel(name).safe.put_nowait(name)",
        "request.app.state.hub.inner.safe.put_nowait(name)",
        "hub.send_mail(hub.Mailer(), name)",
    ],
)
def test_near_miss_thread_safe_objects_at_the_end_of_a_chain_convert(app, reported, body):
    assert reported(app(route(body), FILES), "create", "phase1")["codes"] == ["AM101"]
