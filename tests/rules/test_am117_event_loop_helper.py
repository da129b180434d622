"""AM117 event-loop-helper: a handler whose sync helper needs the running loop stays `async def`."""

from __future__ import annotations

JOBS = """
import asyncio


def schedule(item_id):
    asyncio.get_running_loop().call_soon(print, item_id)


def later(item_id):
    def callback():
        asyncio.get_running_loop()

    return callback
"""


def test_a_helper_calling_get_running_loop_keeps_the_route_with_am117(app, reported):
    root = app(
        """
        from services import jobs


        @router.post("/items/{item_id}")
        async def touch(item_id: int, session: session_dependency):
            session.execute("select 1")
            jobs.schedule(item_id)
        """,
        {"services/__init__.py": "", "services/jobs.py": JOBS},
    )
    entry = reported(root, "touch", "phase1")
    assert entry["action"] == "keep"
    assert entry["codes"][0] == "AM117"
    assert entry["reasons"][0].startswith("calls services.jobs.schedule (line 14), at services/jobs.py:5")
    # what happens, not that it "would fail"
    assert entry["reasons"][0].endswith(
        "which uses asyncio.get_running_loop: it needs the running event loop, and as `def` it would run in a "
        "worker thread, which has none: the call raises RuntimeError there"
    ), entry["reasons"]


KEPT_LOOP = """
import asyncio


class Jobs:
    def __init__(self):
        self._loop = asyncio.get_event_loop()

    def schedule(self, item_id):
        self._loop.call_soon(print, item_id)


jobs = Jobs()
"""


def test_a_helper_calling_a_kept_loop_says_the_call_is_not_thread_safe(app, reported):
    root = app(
        """
        from services.jobs import jobs


        @router.post("/items/{item_id}")
        async def touch(item_id: int, session: session_dependency):
            session.execute("select 1")
            jobs.schedule(item_id)
        """,
        {"services/__init__.py": "", "services/jobs.py": KEPT_LOOP},
    )
    entry = reported(root, "touch", "phase1")
    assert entry["codes"][0] == "AM117", entry
    assert "which uses self._loop.call_soon: as `def` it would run in a worker thread, and a loop's methods are " \
        "not thread-safe: called from another thread they do not wake the loop" in entry["reasons"][0], entry["reasons"]


def test_near_miss_a_helper_needing_the_loop_only_in_a_callback_converts(app, reported):
    root = app(
        """
        from services import jobs


        @router.post("/items/{item_id}")
        async def touch(item_id: int, session: session_dependency):
            session.execute("select 1")
            jobs.later(item_id)
        """,
        {"services/__init__.py": "", "services/jobs.py": JOBS},
    )
    assert reported(root, "touch", "phase1")["codes"] == ["AM101"]
