"""AM109 event-loop-api: a handler using an API that needs the running loop stays `async def`."""

from __future__ import annotations


def test_get_running_loop_keeps_the_route_with_am109(app, reported):
    root = app(
        """
        import asyncio


        @router.get("/items")
        async def list_items(session: session_dependency):
            loop = asyncio.get_running_loop()
            return session.execute("select 1").all()
        """
    )
    entry = reported(root, "list_items", "phase1")
    assert entry["action"] == "keep"
    assert entry["codes"][0] == "AM109"
    assert entry["reasons"][0] == "uses asyncio.get_running_loop at line 13, which needs the event loop"


def test_near_miss_an_asyncio_function_that_needs_no_loop_converts(app, reported):
    root = app(
        """
        import asyncio


        @router.get("/items")
        async def list_items(session: session_dependency):
            asyncio.iscoroutinefunction(print)
            return session.execute("select 1").all()
        """
    )
    assert reported(root, "list_items", "phase1")["codes"] == ["AM101"]
