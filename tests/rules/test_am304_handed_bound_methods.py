"""AM304 unverified-session: a bound method of a module-level instance handed as a value is
followed as a function handed so is: `grpc_call(handler.list_things, 1)` with a helper calling
the parameter it lands in, the same inside `functools.partial`, and `bus.on("created",
audit.on_created)` registering it in a table a route's `bus.emit()` runs, and `grpc_handler.list_things`
in the routes a router factory builds around its parameter. Each route had no
finding, though the method's Session work ran on the event loop. Near miss: a bound method doing
no Session work handed the same way."""

from __future__ import annotations

ROUTES = """
from collections import defaultdict
from functools import partial

from sqlalchemy import select

from db.engine import database_sessionmaker


class Handler:
    def list_things(self, request, context):
        with database_sessionmaker() as s:
            return s.scalars(select(request)).all()

    def label(self, request, context):
        return "x"


def grpc_call(handler_fn, request):
    return handler_fn(request, context=None)


handler = Handler()


@router.get("/handed")
async def handed():
    return grpc_call(handler.list_things, 1)


@router.get("/partial")
async def handed_partial():
    return grpc_call(partial(handler.list_things), 1)


@router.get("/label")
async def handed_label():
    return grpc_call(handler.label, 1)


class Bus:
    def __init__(self):
        self.handlers = defaultdict(list)

    def on(self, event, fn):
        self.handlers[event].append(fn)

    def emit(self, event, *args):
        for fn in self.handlers[event]:
            fn(*args)


class Audit:
    def on_created(self, i):
        with database_sessionmaker() as s:
            s.scalar(select(i))


bus = Bus()
audit = Audit()
bus.on("created", audit.on_created)


@router.post("/emit")
async def emit():
    bus.emit("created", 1)


def build(grpc_handler):
    @router.get("/built")
    async def built():
        return grpc_call(grpc_handler.list_things, 1)


build(Handler())
"""


def test_a_handed_bound_method_is_followed(app, findings):
    root = app(ROUTES)
    for route in ("handed", "handed_partial", "build.<locals>.built"):
        found = findings(root, route)
        assert [f["code"] for f in found] == ["AM304"], (route, found)
        assert "Handler.list_things" in found[0]["message"], found


def test_a_bound_method_handed_on_may_be_what_a_table_runs(app, findings):
    found = findings(app(ROUTES), "emit")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "handed on as `" in found[0]["message"], found


def test_near_miss_a_bound_method_doing_no_session_work(app, findings):
    assert findings(app(ROUTES), "handed_label") == []
