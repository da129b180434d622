"""AM332 (not AM301) for Session work written in a lambda or nested function an `async def` route
hands to a worker thread (`run_in_threadpool`, `asyncio.to_thread`, `anyio.to_thread.run_sync`,
`loop.run_in_executor`) on a thread-local `scoped_session`, reached by its name or through a model's
`query_property()` (`Item.query`): the work runs in the worker, not on the event loop, and its
Session is the worker's, which only a `remove()` in the same worker call ends."""

from __future__ import annotations

import pytest

REGISTRY = """
from sqlalchemy import Column, Integer, create_engine
from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker

engine = create_engine("sqlite:///./app.db")
SessionLocal = sessionmaker(bind=engine)
reg = scoped_session(SessionLocal)
Base = declarative_base()
Base.query = reg.query_property()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
"""

ROUTES = """
import asyncio

import anyio
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from db import Item, reg


def count_and_remove():
    try:
        return Item.query.filter_by(id=1).count()
    finally:
        reg.remove()


@router.get("/count")
async def read_count():
BODY
"""

# the rules' `app` fixture puts 7 lines before ROUTES: the route's body starts at line 26
LINE = 26


def _root(app, body: str):  # type: ignore[no-untyped-def]
    return app(ROUTES.replace("BODY", body), {"db.py": REGISTRY})


@pytest.mark.parametrize(
    ("body", "what", "used"),
    [
        ("    return await run_in_threadpool(lambda: Item.query.filter_by(id=1).count())", "a lambda", "Item.query"),
        ("    return await asyncio.to_thread(lambda: Item.query.count())", "a lambda", "Item.query"),
        ("    return await anyio.to_thread.run_sync(lambda: Item.query.count())", "a lambda", "Item.query"),
        (
            "    loop = asyncio.get_running_loop()\n    return await loop.run_in_executor(None, lambda: Item.query.count())",
            "a lambda", "Item.query",
        ),
        ("    return await run_in_threadpool(lambda: reg.execute(text('select 1')))", "a lambda", "reg"),
        ("    def work():\n        return Item.query.count()\n\n    return await run_in_threadpool(work)",
         "a nested function", "Item.query"),
    ],
    ids=["query-property-lambda", "to-thread-lambda", "anyio-lambda", "run-in-executor-lambda", "registry-lambda",
         "nested-function"],
)
def test_registry_work_in_an_offloaded_lambda_is_am332_not_am301(app, findings, body, what, used):
    found = findings(_root(app, body), "read_count")
    assert [f["code"] for f in found] == ["AM332"], found
    message = found[0]["message"]
    if what == "a lambda":
        handed = f"a lambda to a worker thread at line {LINE + body.count(chr(10))}"  # the offloading call's
    else:
        handed = f"a nested function to a worker thread; there it uses the registry at api/items.py:{LINE + 1}"
    assert f"async def route hands {handed}" in message, message
    assert f"`{used}`, a " in message and "whose scope is the thread (db.py:6)" in message, message
    assert "that thread keeps its own Session from one request to the next" in message, message
    # a `remove()` in the same worker call: not the work moved back onto the loop
    assert "hand the worker one helper that does the work and calls the registry's `remove()` in a `finally`" in message
    assert "in place" not in message, message


@pytest.mark.parametrize(
    "body",
    [
        "    return await run_in_threadpool(count_and_remove)",
        "    return await run_in_threadpool(lambda: count_and_remove())",
    ],
    ids=["helper", "helper-in-lambda"],
)
def test_near_miss_the_advised_helper_removing_the_registry_is_not_reported(app, findings, body):
    # `Item.query` and `reg.remove()` reach one registry: its `remove()` ends the worker's Session
    assert findings(_root(app, body), "read_count") == []


def test_query_property_work_on_the_loop_beside_an_offloaded_lambda_is_still_am301(app, findings):
    body = "    n = Item.query.count()\n    return n + await run_in_threadpool(lambda: Item.query.count())"
    found = findings(_root(app, body), "read_count")
    [blocking] = [f for f in found if f["code"] == "AM301"]
    assert f"on the event loop at line {LINE} (Item.query.count())" in blocking["message"], blocking["message"]
    [worker] = [f for f in found if f["code"] == "AM332"]
    assert f"hands a lambda to a worker thread at line {LINE + 1}" in worker["message"], worker["message"]
