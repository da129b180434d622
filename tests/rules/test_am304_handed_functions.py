"""AM304 unverified-session: a function doing synchronous Session work handed as a value to what
runs it during the call: a project function calling the parameter it lands in (`await retry(
svc.count)` with `async def retry(fn): ... return fn()`, through a keyword, through a helper it
hands it on to, as a `functools.partial`, working on a context value handed beside it). Each route
was "does no synchronous Session work" and check passed it, though the handed function ran on the
event loop. A builtin calling it in place (`sorted(ids, key=ranker.rank)`) is a call of the graph
instead (tests/rules/test_am123_handed_to_call_in_place.py). Near misses: a helper running it in the
threadpool, one storing it, a function doing no Session work."""

from __future__ import annotations

import pytest

ROUTES = """
import asyncio
from dataclasses import dataclass
from functools import partial

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker, get_db_session

CALLBACKS = []


@dataclass(frozen=True)
class OrderService:
    db: Session

    def count(self) -> int:
        return len(self.db.scalars(select(1)).all())


@dataclass
class Ctx:
    db: Session
    orders: OrderService


def get_ctx(db: Session = Depends(get_db_session)) -> Ctx:
    return Ctx(db, OrderService(db))


class Ranker:
    def rank(self, i: int) -> int:
        with database_sessionmaker() as s:
            return s.scalar(select(i)) or 0


def count_own() -> int:
    with database_sessionmaker() as s:
        return s.scalar(select(1)) or 0


def count_in(ctx) -> int:
    return ctx.db.scalar(select(1)) or 0


def label() -> str:
    return "x"


async def retry(fn, *args):
    await asyncio.sleep(0)
    return fn(*args)


async def retry_keyword(*, attempt):
    return attempt()


def apply(fn, *args):
    return _apply(fn, *args)


def _apply(fn, *args):
    return fn(*args)


async def in_thread(fn, *args):
    return await run_in_threadpool(fn, *args)


def register(fn):
    CALLBACKS.append(fn)


@router.get("/bound")
async def bound(ctx: Ctx = Depends(get_ctx)):
    return await retry(ctx.orders.count)


@router.get("/local")
async def local(ctx: Ctx = Depends(get_ctx)):
    count = ctx.orders.count
    return await retry(count)


@router.get("/keyword")
async def keyword(ctx: Ctx = Depends(get_ctx)):
    return await retry_keyword(attempt=ctx.orders.count)


@router.get("/function")
async def function():
    return apply(count_own)


@router.get("/context")
async def context(ctx: Ctx = Depends(get_ctx)):
    return await retry(count_in, ctx)


@router.get("/partial")
async def partial_of(ctx: Ctx = Depends(get_ctx)):
    return await retry(partial(count_in, ctx))


@router.get("/sorted")
async def ranked():
    ranker = Ranker()
    return sorted([1, 2], key=ranker.rank)


@router.get("/threadpool")
async def threadpool():
    return await in_thread(count_own)


@router.get("/stored")
async def stored():
    register(count_own)
    return 1


@router.get("/plain")
async def plain():
    return apply(label)
"""

RUN = ["bound", "local", "keyword", "function", "context", "partial_of"]


@pytest.mark.parametrize("route", RUN)
def test_a_working_function_handed_to_what_calls_it_is_unverified_am304(app, findings, reported, route):
    root = app(ROUTES)
    found = findings(root, route)
    assert [f["code"] for f in found] == ["AM304"], found
    assert "hands " in found[0]["message"] and "which calls it" in found[0]["message"], found
    entry = reported(root, route, "phase1")
    assert entry["action"] == "keep" and entry["codes"] == ["AM125"], entry


def test_a_bound_method_handed_to_a_builtin_calling_it_in_place_is_a_call_of_the_graph(app, findings, reported):
    root = app(ROUTES)
    assert [f["code"] for f in findings(root, "ranked")] == ["AM301"]
    entry = reported(root, "ranked", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM123"]), entry


def test_the_reason_names_where_the_callee_calls_it(app, findings):
    root = app(ROUTES)
    message = findings(root, "function")[0]["message"]
    assert "hands count_own to `apply()`, which calls it (api/items.py:" in message, message
    assert "with database_sessionmaker() as s -> s.scalar()" in message, message
    message = findings(root, "context")[0]["message"]
    # `retry(count_in, ctx)` hands `ctx` on to `count_in`'s parameter: the flow reads it there
    assert "hands count_in to `retry()`, which calls it" in message and "ctx.db.scalar()" in message, message


@pytest.mark.parametrize("route", ["threadpool", "stored", "plain"])
def test_near_miss_run_in_a_thread_stored_or_doing_no_session_work(app, findings, reported, route):
    root = app(ROUTES)
    assert findings(root, route) == []
    assert reported(root, route, "phase1")["reasons"] == ["does no synchronous Session work"]
