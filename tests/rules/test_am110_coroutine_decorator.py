"""AM110 coroutine-decorator: a project decorator whose wrapper awaits the function keeps the handler."""

from __future__ import annotations

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
