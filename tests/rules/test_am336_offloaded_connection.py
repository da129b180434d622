"""AM336 for an `async def` route handing work on a process-wide connection to a worker thread:
each request runs it on a thread of its own, several at once (a sqlite3 connection made at import
refuses them all); on the event loop's thread, which made it, requests take turns."""

from __future__ import annotations

import pytest

ROUTES = """
import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from db.engine import engine

_cache = sqlite3.connect("cache.db")
_free = sqlite3.connect("cache.db", check_same_thread=False)
_conn = engine.connect()
_one = ThreadPoolExecutor(max_workers=1)


def count_cache():
    return _cache.execute("select 1").fetchone()[0]


def count_free():
    return _free.execute("select 1").fetchone()[0]


def count_conn():
    return _conn.execute(text("select 1")).scalar_one()


def count_pooled():
    with engine.connect() as conn:
        return conn.execute(text("select 1")).scalar_one()


@router.get("/helper")
async def helper():
    return {"n": await run_in_threadpool(count_cache)}


@router.get("/to-thread")
async def to_thread():
    return {"n": await asyncio.to_thread(count_conn)}


@router.get("/method")
async def method():
    return {"n": await asyncio.to_thread(_cache.execute, "select 1")}


@router.get("/lambda")
async def in_lambda():
    return {"n": await run_in_threadpool(lambda: _conn.execute(text("select 1")).scalar_one())}


@router.get("/executor")
async def default_executor():
    loop = asyncio.get_running_loop()
    return {"n": await loop.run_in_executor(None, count_free)}


@router.get("/own-executor-refused")
async def own_executor_refused():
    loop = asyncio.get_running_loop()
    return {"n": await loop.run_in_executor(_one, count_cache)}


@router.get("/own-executor")
async def own_executor():
    loop = asyncio.get_running_loop()
    return {"n": await loop.run_in_executor(_one, count_free)}


@router.get("/pooled")
async def pooled():
    return {"n": await run_in_threadpool(count_pooled)}


@router.get("/on-loop")
async def on_loop():
    return {"n": count_free()}
"""


@pytest.mark.parametrize(
    ("route", "shown"),
    [
        ("helper", "(`_cache.execute()`) `_cache`, a sqlite3 connection"),
        ("to_thread", "(`_conn.execute()`) `_conn`, a SQLAlchemy Connection"),
        ("method", "(`asyncio.to_thread(...)`) `_cache`, a sqlite3 connection"),
        ("in_lambda", "(`_conn.execute()`) `_conn`, a SQLAlchemy Connection"),
        ("default_executor", "(`_free.execute()`) `_free`, a sqlite3 connection"),
        ("own_executor_refused", "(`_cache.execute()`) `_cache`, a sqlite3 connection"),
    ],
)
def test_an_async_route_handing_work_on_a_process_wide_connection_to_a_worker_thread_is_flagged(
    app, findings, route, shown
):
    # before, only a `def` handler was judged: these had no finding
    [finding] = findings(app(ROUTES), route)
    assert finding["code"] == "AM336", finding
    assert "hands work to a worker thread, a thread per request" in finding["message"], finding
    assert shown in finding["message"], finding


@pytest.mark.parametrize("route", ["own_executor", "pooled", "on_loop"])
def test_near_miss_an_own_executor_a_connection_per_request_or_the_event_loop_is_not_flagged(app, findings, route):
    # an executor of the project's own may keep one thread for the connection (not so for one
    # refusing every thread but the one that made it, above)
    assert findings(app(ROUTES), route) == []
