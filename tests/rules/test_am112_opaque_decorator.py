"""AM112 opaque-decorator: a project decorator whose wrapper the analysis cannot read keeps the handler."""

from __future__ import annotations

DECORATORS = """
import functools


def traced(func):
    return REGISTRY.wrap(func)


def passthrough(func):
    return func
"""


def test_a_decorator_the_tool_cannot_follow_keeps_the_route_with_am112(app, reported):
    root = app(
        """
        from core.decorators import traced


        @router.get("")
        @traced
        async def read_items(session: session_dependency):
            return session.execute("select 1").all()
        """,
        {"core/decorators.py": DECORATORS},
    )
    entry = reported(root, "read_items", "phase1")
    assert entry["action"] == "keep"
    assert "AM112" in entry["codes"], entry
    assert entry["reasons"][entry["codes"].index("AM112")].startswith("decorator @traced (core/decorators.py:")


def test_near_miss_a_decorator_returning_the_function_itself_converts(app, reported):
    root = app(
        """
        from core.decorators import passthrough


        @router.get("")
        @passthrough
        async def read_items(session: session_dependency):
            return session.execute("select 1").all()
        """,
        {"core/decorators.py": DECORATORS},
    )
    entry = reported(root, "read_items", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM101"])
