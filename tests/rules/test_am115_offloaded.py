"""AM115 offloaded: with `--offload-mixed`, phase one wraps a kept handler's blocking helper calls
in `await run_in_threadpool(...)`."""

from __future__ import annotations

from rules.test_am108_awaits_and_blocks import MIXED


def test_with_offload_mixed_the_helper_call_is_am115(app, reported):
    entry = reported(app(MIXED.replace("{call}", "save(session)")), "create", "phase1", "--offload-mixed")
    assert entry["codes"] == ["AM108", "AM115"]


def test_near_miss_without_the_flag_nothing_is_offloaded(app, reported):
    entry = reported(app(MIXED.replace("{call}", "save(session)")), "create", "phase1")
    assert "AM115" not in entry["codes"], entry
