"""AM301 blocking-session: a helper call on the event loop is no offloaded one because the same
helper is offloaded on its line (`await run_in_threadpool(load, db, 1) if flag else load(db, 2)`,
a list of both): phase one read both as running in a worker thread and check passed the route.
Near miss: every call of the line offloaded."""

from __future__ import annotations

ROUTES = """
from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_db_session


def load(db: Session, i: int):
    return db.scalar(select(i))


@router.get("/cond")
async def cond(flag: bool, db: Session = Depends(get_db_session)):
    return await run_in_threadpool(load, db, 1) if flag else load(db, 2)


@router.get("/first")
async def first(flag: bool, db: Session = Depends(get_db_session)):
    return load(db, 2) if flag else await run_in_threadpool(load, db, 1)


@router.get("/pair")
async def pair(db: Session = Depends(get_db_session)):
    return [await run_in_threadpool(load, db, 1), load(db, 2)]


@router.get("/both")
async def both(db: Session = Depends(get_db_session)):
    return [await run_in_threadpool(load, db, 1), await run_in_threadpool(load, db, 2)]
"""


def test_the_direct_call_beside_an_offloaded_one_blocks(app, findings):
    root = app(ROUTES)
    for route in ("cond", "first", "pair"):
        found = findings(root, route)
        assert [f["code"] for f in found] == ["AM301"], (route, found)


def test_near_miss_every_call_on_the_line_offloaded(app, findings):
    assert findings(app(ROUTES), "both") == []
