"""AM301 through a value picked out of a table and branched on `iscoroutinefunction()`.

mlrun's grafana proxy: `function = TABLE[target]`, then `await function(db, q)` under
`if asyncio.iscoroutinefunction(function):` and `await run_in_threadpool(function, db, q)` in
its `else`. Each side runs only the entries of its kind: the synchronous one doing Session
work runs in the threadpool, and nothing blocks the loop. It was AM301, naming the plain
entry as awaited on the loop, and the threadpool call was no edge at all.
"""

from __future__ import annotations

import pytest

SEARCH = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Book


def list_titles(db: Session, q: str) -> list[str]:
    return list(db.scalars(select(Book.title)))


async def list_metrics(db: Session, q: str) -> list[str]:
    return []


TABLE = {"titles": list_titles, "metrics": list_metrics}
"""

ROUTES = """
import asyncio
import inspect

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from search import TABLE


@router.post("/branched")
async def branched(target: str, request: Request, db: session_dependency):
    body = await request.json()
    function = TABLE[target]
    if asyncio.iscoroutinefunction(function):
        result = await function(db, body)
    else:
        result = await run_in_threadpool(function, db, body)
    return result


@router.post("/returned")
async def returned(target: str, request: Request, db: session_dependency):
    body = await request.json()
    function = TABLE[target]
    if not inspect.iscoroutinefunction(function):
        return await run_in_threadpool(function, db, body)
    return await function(db, body)


@router.post("/plain_side")
async def plain_side(target: str, request: Request, db: session_dependency):
    body = await request.json()
    function = TABLE[target]
    if not inspect.iscoroutinefunction(function):
        return function(db, body)
    return await function(db, body)


@router.post("/unbranched")
async def unbranched(target: str, request: Request, db: session_dependency):
    body = await request.json()
    function = TABLE[target]
    return await function(db, body)
"""


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    from test_phase2_rules import MODELS

    return app(ROUTES, {"search.py": SEARCH, "models.py": MODELS})


@pytest.mark.parametrize("route", ["branched", "returned"])
def test_each_side_of_the_branch_runs_only_the_entries_of_its_kind(root, findings, reported, route):
    assert findings(root, route) == []
    entry = reported(root, route)
    assert entry["codes"] == ["AM131"], entry
    assert "search.list_titles(...)" in entry["reasons"][0], entry


def test_the_plain_side_calling_the_entry_on_the_loop_still_blocks_at_that_call_alone(root, findings):
    (finding,) = findings(root, "plain_side")
    assert finding["code"] == "AM301"
    assert len(finding["blocking"]) == 1, finding  # not the `await function(db, body)` after the branch
    assert "search.list_titles(...)" in finding["blocking"][0]["call"], finding


def test_near_miss_without_the_branch_any_entry_may_run_on_the_loop(root, findings):
    (finding,) = findings(root, "unbranched")
    assert finding["code"] == "AM301" and "search.list_titles(...)" in finding["message"], finding


def test_a_side_no_entry_of_the_table_takes_is_no_unverified_call(app, findings, reported):
    # mlrun's table holds plain functions only: `await function(db, body)` under the
    # `iscoroutinefunction` test runs none of them, and is no Session handed to what the
    # analysis cannot see into (AM304)
    from test_phase2_rules import MODELS

    plain = SEARCH.replace('"metrics": list_metrics', '"counts": list_titles')
    root = app(ROUTES, {"search.py": plain, "models.py": MODELS})
    for route in ("branched", "returned"):
        assert findings(root, route) == [], route
        assert reported(root, route)["codes"] == ["AM131"], route
