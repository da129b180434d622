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


def test_offload_mixed_offloading_nothing_says_so_and_why_in_the_summary(app, cli):
    # the route's blocking call is a Session method it makes itself: nothing to wrap, and the run
    # said nothing about the flag it was given
    root = app(MIXED.replace("{call}", "session.commit()"))
    result = cli("phase1", root, "--offload-mixed")
    assert result.exit_code == 0, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert "--offload-mixed offloaded nothing: 1 handler kept async def still blocks the event loop" in last, last
    assert "never a Session method the handler calls itself" in last, last


def test_near_miss_offload_mixed_offloading_a_call_adds_nothing_to_the_summary(app, cli):
    result = cli("phase1", app(MIXED.replace("{call}", "save(session)")), "--offload-mixed")
    assert result.exit_code == 0, result.output
    assert "offloaded nothing" not in result.stderr, result.stderr
