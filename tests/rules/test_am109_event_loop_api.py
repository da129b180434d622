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


# anyio.from_thread.run is what a worker thread calls to run a coroutine on the loop: on the loop's
# own thread it raises RuntimeError. As `def`, a route runs in the threadpool's AnyIO worker
# thread, where the call does what it is written for: no reason to stay async.
FROM_THREAD = """
import anyio.from_thread


async def notify(name: str) -> None:
    print(name)


def announce(name: str) -> None:
    anyio.from_thread.run(notify, name)


@router.post("/direct")
async def direct(session: session_dependency):
    anyio.from_thread.run(notify, "direct")
    return session.execute("select 1").all()


@router.post("/helper")
async def helper(session: session_dependency):
    announce("helper")
    return session.execute("select 1").all()
"""


def test_near_miss_anyio_from_thread_run_is_no_reason_to_stay_async(app, reported):
    root = app(FROM_THREAD)
    for function in ("direct", "helper"):
        entry = reported(root, function, "phase1")
        assert (entry["action"], entry["codes"]) == ("convert", ["AM101"]), (function, entry)
