"""AM110 coroutine-decorator: a project decorator whose wrapper awaits the function keeps the handler."""

from __future__ import annotations

import pytest

DECORATORS = """
import functools


def timed(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        return await func(*args, **kwargs)
    return wrapper


def logged(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper
"""

ROUTE = """
from core.decorators import logged, timed


@router.get("")
@{decorator}
async def read_items(session: session_dependency):
    return session.execute("select 1").all()
"""


def test_an_awaiting_wrapper_keeps_the_route_with_am110(app, reported):
    root = app(ROUTE.format(decorator="timed"), {"core/decorators.py": DECORATORS})
    entry = reported(root, "read_items", "phase1")
    assert entry["action"] == "keep"
    assert entry["codes"][0] == "AM110"
    assert entry["reasons"][0].startswith("decorator @timed (core/decorators.py:")


def test_near_miss_a_plain_wrapper_converts(app, reported):
    root = app(ROUTE.format(decorator="logged"), {"core/decorators.py": DECORATORS})
    assert reported(root, "read_items", "phase1")["codes"] == ["AM101"]


# The same decorators as methods of a module-level instance (`audit = Auditor()`, `@audit.track`),
# one a factory (`@audit.tagged("items")`): the method's first parameter is the instance, the
# function it decorates comes second. `{work}` is what each `async def` wrapper runs before
# awaiting the function.
METHOD_DECORATORS = """
import functools

from sqlalchemy import text

from db.engine import database_sessionmaker


class Auditor:
    def track(self, func):
        @functools.wraps(func)
        async def wrapper(*args, **kwargs):
            {work}
            return await func(*args, **kwargs)
        return wrapper

    def tagged(self, label):
        def decorate(func):
            @functools.wraps(func)
            async def wrapper(*args, **kwargs):
                {work}
                return await func(*args, **kwargs)
            return wrapper
        return decorate

    def logged(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)
        return wrapper


audit = Auditor()
"""

# one line: it goes into wrappers at two depths
AUDIT_ROW = """with database_sessionmaker() as session: session.execute(text("insert into items (name, owner_id) values ('a', 1)"))"""

METHOD_ROUTE = """
from core.decorators import audit


@router.get("")
@{decorator}
async def read_items():
    return {{"ok": True}}
"""


@pytest.mark.parametrize(("decorator", "line"), [("audit.track", 12), ("audit.tagged(\"items\")", 20)])
def test_a_method_decorator_whose_async_wrapper_does_session_work_is_found(app, reported, findings, decorator, line):
    # The route's own body does nothing; the wrapper the instance's method returns runs a
    # synchronous Session on the event loop around every call. Read as "does no synchronous
    # Session work" while the method was not followed through the instance.
    root = app(METHOD_ROUTE.format(decorator=decorator), {"core/decorators.py": METHOD_DECORATORS.replace("{work}", AUDIT_ROW)})
    entry = reported(root, "read_items", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM110", (entry["codes"], entry["reasons"])
    assert entry["reasons"][0].startswith(f"decorator @{decorator} (core/decorators.py:"), entry["reasons"]
    assert f"'s wrapper, at core/decorators.py:{line} (`with database_sessionmaker() as session" in entry["reasons"][-1], entry
    assert [f["code"] for f in findings(root, "read_items")] == ["AM301"]


@pytest.mark.parametrize("decorator", ["audit.track", "audit.tagged(\"items\")"])
def test_near_miss_a_method_decorator_whose_async_wrapper_does_no_session_work(app, reported, findings, decorator):
    root = app(METHOD_ROUTE.format(decorator=decorator), {"core/decorators.py": METHOD_DECORATORS.replace("{work}", "pass")})
    assert reported(root, "read_items", "phase1")["codes"] == ["AM105"]
    assert findings(root, "read_items") == []


def test_near_miss_a_method_decorator_with_a_plain_wrapper_converts(app, reported):
    root = app(
        ROUTE.replace("from core.decorators import logged, timed", "from core.decorators import audit").format(
            decorator="audit.logged"
        ),
        {"core/decorators.py": METHOD_DECORATORS.replace("{work}", "pass")},
    )
    assert reported(root, "read_items", "phase1")["codes"] == ["AM101"]


# A decorator reached through a module-level name bound to a call: an instance whose `__call__`
# takes the function (`timer = Timer()`), or a factory's decorator (`timed_db = timed_as("db")`).
BOUND = """
import functools


class Timer:
    def __call__(self, func):
        @functools.wraps(func)
        async def wrapper(*args, **kwargs):
            return await func(*args, **kwargs)
        return wrapper


class Logger:
    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)
        return wrapper


def timed_as(label):
    def decorate(func):
        @functools.wraps(func)
        async def wrapper(*args, **kwargs):
            return await func(*args, **kwargs)
        return wrapper
    return decorate


def logged_as(label):
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)
        return wrapper
    return decorate


timer = Timer()
logger = Logger()
timed_db = timed_as("db")
logged_db = logged_as("db")
"""

BOUND_ROUTE = """
from core.decorators import logged_db, logger, timed_db, timer


@router.get("")
@{decorator}
async def read_items(session: session_dependency):
    return session.execute("select 1").all()
"""


@pytest.mark.parametrize("decorator, line", [("timer", 5), ("timed_db", 20)])
def test_an_awaiting_wrapper_through_an_instance_or_a_factory_alias_keeps_the_route(app, reported, decorator, line):
    root = app(BOUND_ROUTE.format(decorator=decorator), {"core/decorators.py": BOUND})
    entry = reported(root, "read_items", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM110"), entry
    assert entry["reasons"][0].startswith(f"decorator @{decorator} (core/decorators.py:{line}) awaits"), entry


@pytest.mark.parametrize("decorator", ["logger", "logged_db"])
def test_near_miss_a_plain_wrapper_through_an_instance_or_a_factory_alias_converts(app, reported, decorator):
    root = app(BOUND_ROUTE.format(decorator=decorator), {"core/decorators.py": BOUND})
    assert reported(root, "read_items", "phase1")["codes"] == ["AM101"]
