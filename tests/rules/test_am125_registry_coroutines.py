"""AM125 unverified (phase one) for a route awaiting a registry's method that hands the Session to
coroutines taken from a table at run time (`await hooks.fire(db, id)`): check says unverified
(AM304), but phase one kept it as "mixed ... does synchronous Session work" (AM108) that "still
blocks the event loop through `db`" (AM116), which nothing shows. Near miss: the same route also
calling the Session itself is mixed and still blocks at that call."""

from __future__ import annotations

from rules.test_am304_registry_coroutines import _root


def test_phase_one_says_the_registry_route_is_unverified(app, reported):
    entry = reported(_root(app), "fire_hooks", "phase1")
    assert entry["action"] == "keep", entry
    assert entry["codes"] == ["AM125"], entry
    (reason,) = entry["reasons"]
    assert "its Session work is unverified: calls hooks.HookRegistry.fire (line " in reason, reason
    assert "HookRegistry.fire -> " in reason and "`hook`" in reason, reason


def test_near_miss_the_sessions_own_call_beside_it_still_blocks(app, reported):
    entry = reported(_root(app), "fire_and_count", "phase1")
    assert entry["codes"] == ["AM108", "AM116"], entry
    assert "still blocks the event loop at line " in entry["reasons"][1] and "(db.scalar())" in entry["reasons"][1]
