"""AM138 loop-bound-primitive: a handler that (through its helpers) calls a method of an asyncio
Queue/Event/Lock stays `async def`; thread-safe primitives keep nothing."""

from __future__ import annotations

import pytest

EVENTS = """
import asyncio
import queue
import threading
from typing import Dict, Optional

EVENTS: asyncio.Queue = asyncio.Queue()
CHANGED = asyncio.Event()
THREADED = queue.Queue()


def publish(name):
    EVENTS.put_nowait({"created": name})
    CHANGED.set()


def publish_threaded(name):
    THREADED.put_nowait({"created": name})


def pending():
    return EVENTS.qsize()


class Hub:
    waiters = asyncio.Condition()

    def __init__(self):
        self.queue = asyncio.Queue()
        self.done = queue.Queue()

    def push(self, name):
        self.queue.put_nowait(name)

    def finish(self, name):
        self.done.put(name)

    def wake(self):
        self.waiters.notify_all()


HUB = Hub()


def handed(events: asyncio.Queue, name):
    events.put_nowait(name)


def handed_threaded(events: queue.Queue, name):
    events.put_nowait(name)


# Made by the lifespan on the loop that awaits it, not at import.
WAKEUP: asyncio.Event | None = None
STOPPED = None
SHADOWED = None


def start_publisher():
    global WAKEUP, STOPPED
    WAKEUP = asyncio.Event()
    STOPPED = threading.Event()


def local_only():
    SHADOWED = asyncio.Event()
    return SHADOWED


def notify_publisher():
    if WAKEUP is not None:
        WAKEUP.set()


def stop_publisher():
    STOPPED.set()


def shadowed():
    if SHADOWED is not None:
        SHADOWED.set()


# Declared, and bound by the lifespan of another module (`events.SIGNAL = asyncio.Event()`).
SIGNAL: asyncio.Event | None = None
OUTBOX: Optional[asyncio.Queue] = None
WAITERS: dict[int, asyncio.Future] = {}


def signal():
    SIGNAL.set()


def enqueue(name):
    OUTBOX.put_nowait(name)


def forget(key):
    WAITERS.pop(key, None)


# Bound by the lifespan of another module (`events.READY = asyncio.Event()`), not declared.
READY = None
LATCH = None


def ready():
    READY.set()


def latch():
    LATCH.set()


# The broker's acknowledgement resolves the future a request awaits.
SENT: dict[int, threading.Event] = {}


def acknowledge(key):
    waiter = WAITERS.pop(key, None)
    if waiter is not None:
        waiter.set_result(True)


def acknowledge_direct(key):
    WAITERS[key].set_result(True)


def acknowledged(key):
    return WAITERS[key].done()


def mark_sent(key):
    SENT[key].set()


# Typed through a forward reference (quoted), as a whole or for the items alone.
QUOTED: Dict[int, "asyncio.Future[int]"] = {}
WHOLE: "dict[int, asyncio.Future]" = {}
QUOTED_SENT: Dict[int, "threading.Event"] = {}


def resolve_quoted(key):
    QUOTED[key].set_result(1)


def resolve_whole(key):
    WHOLE[key].set_result(1)


def resolve_popped(key):
    WAITERS.pop(key).set_result(True)


def resolve_set_default(key):
    WAITERS.setdefault(key, asyncio.Future()).set_result(True)


def resolve_all():
    for waiter in QUOTED.values():
        waiter.set_result(1)


def resolve_items():
    for _, waiter in WHOLE.items():
        waiter.set_result(1)


def mark_sent_quoted(key):
    QUOTED_SENT[key].set()


def mark_sent_popped(key):
    SENT.pop(key).set()
"""


def route(body: str) -> str:
    return f"""
        import asyncio

        from services import events


        @router.post("/items")
        async def create(name: str, session: session_dependency):
            session.execute("select 1")
            {body}
        """


FILES = {"services/__init__.py": "", "services/events.py": EVENTS}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("events.publish(name)", "calls services.events.publish (line 16), which calls EVENTS.put_nowait() on an "
         "asyncio.Queue at services/events.py:12: asyncio's primitives are bound to the event loop"),
        ("events.HUB.push(name)", "which calls self.queue.put_nowait() on an asyncio.Queue at services/events.py:32"),
        ("events.HUB.wake()", "which calls self.waiters.notify_all() on an asyncio.Condition"),
        ("events.handed(events.EVENTS, name)", "which calls events.put_nowait() on an asyncio.Queue"),
        ("events.CHANGED.set()", "calls CHANGED.set() on an asyncio.Event at line 16"),
        ("events.HUB.queue.put_nowait(name)", "calls HUB.queue.put_nowait() on an asyncio.Queue at line 16"),
        ("asyncio.Lock().release()", None),
        ("events.notify_publisher()", "which calls WAKEUP.set() on an asyncio.Event at services/events.py:"),
        ("events.signal()", "which calls SIGNAL.set() on an asyncio.Event at services/events.py:"),
        ("events.enqueue(name)", "which calls OUTBOX.put_nowait() on an asyncio.Queue at services/events.py:"),
        ("events.acknowledge(1)", "which calls waiter.set_result() on an asyncio.Future at services/events.py:"),
        ("events.acknowledge_direct(1)", "which calls WAITERS[...].set_result() on an asyncio.Future"),
        ("events.resolve_quoted(1)", "which calls QUOTED[...].set_result() on an asyncio.Future"),
        ("events.resolve_whole(1)", "which calls WHOLE[...].set_result() on an asyncio.Future"),
        ("events.resolve_popped(1)", "which calls WAITERS.pop(...).set_result() on an asyncio.Future"),
        ("events.resolve_set_default(1)", "which calls WAITERS.setdefault(...).set_result() on an asyncio.Future"),
        ("events.resolve_all()", "which calls waiter.set_result() on an asyncio.Future"),
        ("events.resolve_items()", "which calls waiter.set_result() on an asyncio.Future"),
    ],
)
def test_a_handler_reaching_an_asyncio_primitive_is_kept_with_am138(app, reported, body, fragment):
    root = app(route(body), FILES)
    entry = reported(root, "create", "phase1")
    if fragment is None:  # a temporary built in the route: not held anywhere, nothing to keep
        assert entry["codes"] == ["AM101"], entry
        return
    assert entry["action"] == "keep", entry
    assert entry["codes"][0] == "AM138", entry
    assert fragment in entry["reasons"][0], entry["reasons"]


def test_a_local_asyncio_event_set_in_the_route_keeps_it(app, reported):
    root = app(route("ready = asyncio.Event()\n            ready.set()"), FILES)
    entry = reported(root, "create", "phase1")
    assert entry["codes"][0] == "AM138", entry
    assert "calls ready.set() on an asyncio.Event at line 17" in entry["reasons"][0]


@pytest.mark.parametrize(
    "body",
    [
        "events.publish_threaded(name)",
        "events.HUB.finish(name)",
        "events.handed_threaded(events.THREADED, name)",
        "events.pending()",
        "events.stop_publisher()",
        "events.shadowed()",
        "events.forget(1)",
        "events.acknowledged(1)",
        "events.mark_sent(1)",
        "events.mark_sent_quoted(1)",
        "events.mark_sent_popped(1)",
    ],
)
def test_near_miss_thread_safe_queues_and_reads_convert(app, reported, body):
    root = app(route(body), FILES)
    assert reported(root, "create", "phase1")["codes"] == ["AM101"]


def test_check_names_the_primitive_in_its_fix(app, findings):
    root = app(route("events.publish(name)"), FILES)
    (finding,) = findings(root, "create")
    assert "which calls EVENTS.put_nowait() on an asyncio.Queue" in finding["message"], finding
    assert "use a thread-safe primitive" in finding["message"], finding


# The primitive is the router factory's, read by the routes it defines: phase one made them
# `def`, and `put_nowait` from a worker thread woke no consumer awaiting the queue.
FACTORY = """
import asyncio
import queue


def make_routes(prefix: str, {param}) -> APIRouter:
    r = APIRouter(prefix=prefix)
    {local}

    @r.post("/items")
    async def create(name: str, session: session_dependency):
        session.execute("select 1")
        events.{method}(name)

    return r
"""


@pytest.mark.parametrize(
    ("param", "local", "method", "fragment"),
    [
        ("size: int = 0", "events = asyncio.Queue()", "put_nowait", "calls events.put_nowait() on an asyncio.Queue"),
        ("events: asyncio.Queue", "pass", "put_nowait", "calls events.put_nowait() on an asyncio.Queue"),
        ("size: int = 0", "events = asyncio.Event()", "set", "calls events.set() on an asyncio.Event"),
    ],
)
def test_a_factory_route_reaching_the_factorys_primitive_is_kept(app, reported, param, local, method, fragment):
    root = app(FACTORY.format(param=param, local=local, method=method))
    entry = reported(root, "make_routes.<locals>.create", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert fragment in entry["reasons"][0], entry["reasons"]


@pytest.mark.parametrize(
    ("param", "local"),
    [("size: int = 0", "events = queue.Queue()"), ("events: queue.Queue", "pass")],
)
def test_near_miss_a_factory_thread_safe_queue_converts(app, reported, param, local):
    root = app(FACTORY.format(param=param, local=local, method="put_nowait"))
    assert reported(root, "make_routes.<locals>.create", "phase1")["codes"] == ["AM101"]


# Kept in the application's state by the lifespan, so each primitive belongs to the loop that
# serves the requests; or the publisher's task a module-level name holds, cancelled by a route.
STATE = """
import asyncio
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from services import events

PUBLISHER: asyncio.Task | None = None


async def publish_forever(app: FastAPI):
    while True:
        await app.state.wakeup.wait()


@asynccontextmanager
async def lifespan(app: FastAPI):
    global PUBLISHER
    app.state.wakeup = asyncio.Event()
    app.state.outbox = asyncio.Queue()
    app.state.stopped = threading.Event()
    PUBLISHER = asyncio.create_task(publish_forever(app))
    yield


@asynccontextmanager
async def other_lifespan(app: FastAPI):
    events.READY = asyncio.Event()
    events.LATCH = threading.Event()
    yield


def wakeup(request: Request) -> asyncio.Event:
    return request.app.state.wakeup
"""


def state_route(body: str) -> str:
    return f"""
        from fastapi import Depends, Request

        from services import events, state


        @router.post("/items")
        async def create(request: Request, session: session_dependency, event=Depends(state.wakeup)):
            session.execute("select 1")
            {body}
        """


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("request.app.state.wakeup.set()", "calls request.app.state.wakeup.set() on an asyncio.Event"),
        ("request.app.state.outbox.put_nowait(name)", "calls request.app.state.outbox.put_nowait() on an asyncio.Queue"),
        ("event.set()", "calls event.set() on an asyncio.Event"),
        ("state.PUBLISHER.cancel()", "calls PUBLISHER.cancel() on an asyncio.Task"),
        ("events.ready()", "which calls READY.set() on an asyncio.Event"),
    ],
)
def test_a_primitive_the_lifespan_keeps_in_the_application_state_keeps_the_handler(app, reported, body, fragment):
    root = app(state_route(body), {**FILES, "services/state.py": STATE})
    entry = reported(root, "create", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert fragment in entry["reasons"][0], entry["reasons"]


@pytest.mark.parametrize("body", ["request.app.state.wakeup.set()", "request.app.state.outbox.put_nowait(name)"])
def test_an_unannotated_lifespan_keeps_its_primitives_in_the_application_state(app, reported, body):
    # `async def lifespan(app):`: the application it is registered with hands itself to it
    state = STATE.replace("lifespan(app: FastAPI)", "lifespan(app)") + "\n\nstate_app = FastAPI(lifespan=lifespan)\n"
    entry = reported(app(state_route(body), {**FILES, "services/state.py": state}), "create", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert "on an asyncio." in entry["reasons"][0], entry["reasons"]


@pytest.mark.parametrize(
    "body",
    ["request.app.state.stopped.set()", "request.app.state.missing.set(1)", "state.PUBLISHER.done()", "events.latch()"],
)
def test_near_miss_a_thread_safe_state_attribute_one_never_assigned_or_a_read(app, reported, body):
    root = app(state_route(body), {**FILES, "services/state.py": STATE})
    assert reported(root, "create", "phase1")["codes"] == ["AM101"]


# A bus whose method puts on each subscriber's queue, the queues items of a container its
# instance holds: phase one made the route `def`, and `put_nowait` ran in a worker thread.
BUS = """
import asyncio
import queue


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[asyncio.Queue[str]] = []
        self._threaded: list[queue.Queue] = []
        self._built = []
        self._handed = []
        self._waiters: dict[str, asyncio.Future] = {}
        self._loop = asyncio.get_running_loop()

    def subscribe(self, handed):
        q = asyncio.Queue()
        self._built.append(q)
        self._handed.append(handed)

    def publish(self, msg):
        for q in self._subscribers:
            q.put_nowait(msg)

    def publish_threaded(self, msg):
        for q in self._threaded:
            q.put_nowait(msg)

    def publish_built(self, msg):
        for q in self._built:
            q.put_nowait(msg)

    def publish_handed(self, msg):
        for q in self._handed:
            q.put_nowait(msg)

    def publish_first(self, msg):
        self._subscribers[0].put_nowait(msg)

    def resolve(self, key):
        for fut in self._waiters.values():
            fut.set_result(key)

    def relay(self, msg):
        self._fan_out(msg)

    def _fan_out(self, msg):
        deliver(self._subscribers, msg)

    def later(self, msg):
        self._loop.call_soon(print, msg)

    def count(self):
        return sum(q.qsize() for q in self._subscribers)


def deliver(queues: list[asyncio.Queue], msg):
    for q in queues:
        q.put_nowait(msg)


bus = EventBus()


def get_bus() -> EventBus:
    return bus
"""


def bus_route(call: str, depends: bool = False) -> str:
    param = ", bus: EventBus = Depends(get_bus)" if depends else ""
    imports = "from services.bus import EventBus, get_bus" if depends else "from services.bus import bus"
    return f"""
        from fastapi import Depends

        {imports}


        @router.post("/items")
        async def create(name: str, session: session_dependency{param}):
            session.execute("select 1")
            {call}
        """


BUS_FILES = {"services/__init__.py": "", "services/bus.py": BUS}


@pytest.mark.parametrize(
    ("call", "depends", "fragment"),
    [
        ("bus.publish(name)", False, "calls services.bus.EventBus.publish (line 16), which calls q.put_nowait() on "
         "an asyncio.Queue at services/bus.py:21"),
        ("bus.publish(name)", True, "which calls q.put_nowait() on an asyncio.Queue at services/bus.py:21"),
        ("bus.publish_built(name)", False, "which calls q.put_nowait() on an asyncio.Queue at services/bus.py:29"),
        ("bus.publish_first(name)", False, "which calls self._subscribers[...].put_nowait() on an asyncio.Queue"),
        ("bus.resolve(name)", True, "which calls fut.set_result() on an asyncio.Future at services/bus.py:40"),
        ("bus.relay(name)", False, "EventBus.relay (line 16) -> services.bus.EventBus._fan_out -> "
         "services.bus.deliver, which calls q.put_nowait() on an asyncio.Queue at services/bus.py:57"),
        ("for q in bus._subscribers:\n                q.put_nowait(name)", False,
         "calls q.put_nowait() on an asyncio.Queue at line 17"),
    ],
)
def test_a_method_reaching_the_items_of_a_container_of_primitives_keeps_the_route(app, reported, call, depends, fragment):
    entry = reported(app(bus_route(call, depends), BUS_FILES), "create", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert fragment in entry["reasons"][0], entry["reasons"]


def test_a_loop_kept_on_the_instance_keeps_the_route_with_am117(app, reported):
    entry = reported(app(bus_route("bus.later(name)"), BUS_FILES), "create", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM117"), entry
    assert "which uses self._loop.call_soon" in entry["reasons"][0], entry["reasons"]


def test_items_the_analysis_cannot_type_keep_the_route_unverified(app, reported):
    entry = reported(app(bus_route("bus.publish_handed(name)", True), BUS_FILES), "create", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert (
        "which calls q.put_nowait() on an item of self._handed, which the analysis cannot type (unverified"
        in entry["reasons"][0]
    ), entry["reasons"]


# The flow spells a copy of the container as the call without its arguments (`list()`): the
# reason names the container as the source writes it.
COPYING = BUS + """

class CopyingBus(EventBus):
    def publish_copied(self, msg):
        for q in list(self._handed):
            q.put_nowait(msg)

    def publish_sorted(self, msg):
        for q in sorted(self._handed, key=id):
            q.put_nowait(msg)


copying = CopyingBus()
"""


@pytest.mark.parametrize(
    ("call", "written"),
    [("copying.publish_copied(name)", "list(self._handed)"), ("copying.publish_sorted(name)", "sorted(self._handed, ...)")],
)
def test_items_of_a_copy_name_the_container_as_written(app, reported, call, written):
    route = bus_route(call).replace("import bus", "import copying")
    entry = reported(app(route, {**BUS_FILES, "services/bus.py": COPYING}), "create", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM138"), entry
    assert f"which calls q.put_nowait() on an item of {written}, which the analysis cannot type" in entry["reasons"][0], (
        entry["reasons"]
    )


@pytest.mark.parametrize("call", ["bus.publish_threaded(name)", "bus.count()"])
def test_near_miss_thread_safe_items_or_reads_convert(app, reported, call):
    assert reported(app(bus_route(call, True), BUS_FILES), "create", "phase1")["codes"] == ["AM101"]
