"""AM218 shared-helper-blocked: with `--shared block`, a route needing a helper that code outside
the subsystem also calls stays synchronous."""

from __future__ import annotations

from rules.test_am207_helper_twin import OTHER, ROUTE, SERVICE


def test_shared_block_blocks_the_route_with_am218(phase2, entry):
    files = {"services/__init__.py": "", "services/books.py": SERVICE, "api/other.py": OTHER}
    document = phase2(ROUTE, files, "--shared", "block")
    found = entry(document, "read_titles")
    assert (found["action"], found["codes"]) == ("blocked", ["AM218"])
    assert "which is shared with api.other.other (--shared block)" in found["reasons"][0]
    assert document["files_changed"] == []


def test_near_miss_shared_block_with_a_helper_nobody_else_calls_migrates(phase2, entry):
    files = {"services/__init__.py": "", "services/books.py": SERVICE}
    found = entry(phase2(ROUTE, files, "--shared", "block"), "read_titles")
    assert found["action"] == "migrate" and "AM218" not in found["codes"], found
