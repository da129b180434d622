"""AM104 already-def: a plain `def` handler is unchanged by phase one."""

from __future__ import annotations


def test_a_def_route_is_unchanged_with_am104(app, reported):
    root = app(
        """
        @router.get("")
        def read_items(session: session_dependency):
            return session.execute("select 1").all()
        """
    )
    entry = reported(root, "read_items", "phase1")
    assert (entry["action"], entry["before"], entry["codes"]) == ("unchanged", "def", ["AM104"])


def test_near_miss_the_same_route_as_async_def_converts(app, reported):
    root = app(
        """
        @router.get("")
        async def read_items(session: session_dependency):
            return session.execute("select 1").all()
        """
    )
    assert reported(root, "read_items", "phase1")["codes"] == ["AM101"]
