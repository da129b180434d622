"""AM101 takes-sync-session: an `async def` handler that uses its synchronous Session and never awaits."""

from __future__ import annotations


def test_a_route_using_its_session_converts_with_am101(app, reported):
    root = app(
        """
        @router.get("")
        async def read_items(session: session_dependency):
            return session.execute("select 1").all()
        """
    )
    entry = reported(root, "read_items", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM101"])
    assert entry["reasons"][0].startswith("takes a synchronous Session `session: session_dependency`")


def test_near_miss_a_session_parameter_never_used_is_am106_not_am101(app, reported):
    root = app(
        """
        @router.get("")
        async def read_items(session: session_dependency):
            return {"ok": True}
        """
    )
    entry = reported(root, "read_items", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM106"])
