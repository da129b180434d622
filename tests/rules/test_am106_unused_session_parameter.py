"""AM106 unused-session-parameter: an `async def` handler that takes a Session and never uses it stays."""

from __future__ import annotations


def test_an_unused_session_parameter_keeps_the_route_with_am106(app, reported):
    root = app(
        """
        @router.get("")
        async def ping(session: session_dependency):
            return {"ok": True}
        """
    )
    entry = reported(root, "ping", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM106"])
    assert entry["reasons"] == ["its Session parameter `session` is never used"]


def test_near_miss_a_route_without_a_session_parameter_is_am105(app, reported):
    root = app(
        """
        @router.get("")
        async def ping():
            return {"ok": True}
        """
    )
    entry = reported(root, "ping", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM105"])
