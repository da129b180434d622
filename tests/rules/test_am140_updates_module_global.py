"""AM140 updates-module-global: a handler updating a `global` name from its own value stays async."""

from __future__ import annotations

import ast

import pytest

from async_migrate.codemods.astcollect.body import global_updates

ROUTE = """
hits = 0
seen: set[str] = set()
_client = None


@router.get("/items")
async def list_items(session: session_dependency):
    {body}
    return session.execute("select 1").all()
"""


@pytest.mark.parametrize("body, name, line", [
    ("global hits\n    hits += 1", "hits", 16),
    ("global hits\n    hits = hits + 1", "hits", 16),
    ("global seen\n    seen = seen | {'x'}", "seen", 16),
    ("global hits\n    if session:\n        hits: int = max(hits, 2)", "hits", 17),
])
def test_a_route_updating_a_global_from_its_own_value_is_kept_with_am140(app, reported, body, name, line):
    entry = reported(app(ROUTE.format(body=body)), "list_items", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    assert entry["reasons"][0].startswith(f"updates the module-level `{name}` from its own value at line {line}: ")


@pytest.mark.parametrize("body", [
    "global _client\n    _client = object()",  # a plain rebinding: no update to lose
    "hits = 0\n    hits += 1",  # a local of its own
    "global hits\n    def bump():\n        global hits\n        hits += 1",  # a nested function's, not run here
    "seen.add('x')",  # a method of the object: not a rebinding of the name
])
def test_near_miss_rebinding_locals_and_nested_scopes_convert(app, reported, body):
    assert reported(app(ROUTE.format(body=body)), "list_items", "phase1")["action"] == "convert"


def test_check_gives_the_fix(app, findings):
    (finding,) = findings(app(ROUTE.format(body="global hits\n    hits += 1")), "list_items")
    assert "the update of `hits` (line 16) keeps it async" in finding["message"], finding
    assert "threading.Lock" in finding["message"], finding


def test_the_first_update_of_each_name_in_line_order():
    tree = ast.parse("def f():\n    global a, b\n    b += 1\n    a = a * 2\n    b = b - 1\n    a = 3\n")
    assert global_updates(tree.body[0].body, {"a", "b"}) == [("b", 3), ("a", 4)]


# The `__call__` of a callable instance dependency: one instance (`limiter = RateLimiter(5)`,
# `Depends(RateLimiter(5))`) serves every request, so its attributes are shared state.
LIMITER = """
from fastapi import Depends


class RateLimiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.calls = 0
        self.hits: dict[str, int] = {{}}

    async def __call__(self, session: session_dependency) -> None:
        {body}
        session.execute("select 1")


limiter = RateLimiter(5)


@router.get("/items", dependencies=[Depends(limiter)])
def list_items():
    return []
"""


@pytest.mark.parametrize("body, name", [
    ("self.calls += 1", "calls"),
    ("self.hits['k'] = self.hits.get('k', 0) + 1", "hits"),
    ("self.hits['k'] += 1", "hits"),
])
def test_a_callable_instance_dependency_updating_its_own_attribute_is_kept_with_am140(app, reported, body, name):
    entry = reported(app(LIMITER.format(body=body)), "RateLimiter.__call__", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    assert entry["reasons"][0].startswith(f"updates `self.{name}` from its own value at line 18, on an instance every request shares")


@pytest.mark.parametrize("body", [
    "self.calls = 0",  # a plain assignment: no update to lose
    "calls = self.calls + 1",  # a local
])
def test_near_miss_an_assignment_or_a_local_converts(app, reported, body):
    assert reported(app(LIMITER.format(body=body)), "RateLimiter.__call__", "phase1")["action"] == "convert"

