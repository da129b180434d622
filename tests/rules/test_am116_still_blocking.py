"""AM116 still-blocking: a handler phase one keeps `async def` still blocks the event loop at the
calls it names; a call offloaded by hand does not."""

from __future__ import annotations

from rules.test_am108_awaits_and_blocks import MIXED


def test_a_kept_route_with_a_blocking_helper_call_is_am116(app, reported):
    entry = reported(app(MIXED.replace("{call}", "save(session)")), "create", "phase1")
    assert entry["codes"] == ["AM108", "AM116"]


def test_near_miss_the_helper_call_offloaded_by_hand(app, reported):
    call = "await run_in_threadpool(save, session)"
    root = app("from fastapi.concurrency import run_in_threadpool\n\n\n" + MIXED.replace("{call}", call))
    entry = reported(root, "create", "phase1")
    assert "AM116" not in entry["codes"], entry
