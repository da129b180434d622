"""AM311 unawaited-coroutine through a thread offloader nothing awaits: `asyncio.to_thread(save, db)`
(or `run_in_threadpool(save, db)`) written without `await` only creates a coroutine, and `save` never
runs; `loop.run_in_executor(None, save, db)` whose future nothing awaits runs `save` in a thread nobody
joins, on the request's Session, beyond the route. Before, check said "No findings" and phase one
said the work "already runs in a worker thread".

Near misses: the offload awaited in place, held and awaited later, handed to `gather` or `create_task`
and awaited, and a dropped executor future whose work has nothing to do with the Session."""

from __future__ import annotations

import pytest

ROUTES = """
import asyncio
import logging

from fastapi import Depends
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from db.engine import get_db_session
from models import Book


def save(db: Session) -> None:
    db.add(Book(title="x"))
    db.commit()


@router.post("/dropped")
async def dropped(db: Session = Depends(get_db_session)):
    await asyncio.sleep(0)
    asyncio.to_thread(save, db)
    return {"ok": True}


@router.post("/threadpool")
async def threadpool(db: Session = Depends(get_db_session)):
    run_in_threadpool(save, db)
    return {"ok": True}


@router.post("/executor")
async def executor(db: Session = Depends(get_db_session)):
    await asyncio.sleep(0)
    asyncio.get_running_loop().run_in_executor(None, save, db)
    return {"ok": True}


@router.post("/awaited")
async def awaited(db: Session = Depends(get_db_session)):
    await asyncio.to_thread(save, db)
    pending = asyncio.to_thread(save, db)
    await pending
    await asyncio.gather(asyncio.to_thread(save, db))
    task = asyncio.create_task(asyncio.to_thread(save, db))
    await task
    future = asyncio.get_running_loop().run_in_executor(None, save, db)
    await future
    return {"ok": True}


@router.post("/logged")
async def logged(db: Session = Depends(get_db_session)):
    await asyncio.to_thread(save, db)
    asyncio.get_running_loop().run_in_executor(None, logging.info, "saved")
    return {"ok": True}
"""


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    return app(ROUTES)


def _line(root, text: str) -> int:  # type: ignore[no-untyped-def]
    lines = (root / "api/items.py").read_text().splitlines()
    (found,) = [n for n, line in enumerate(lines, 1) if text in line]
    return found


def test_an_unawaited_to_thread_is_am311_its_work_never_runs(findings, root):
    for route, text in (("dropped", "asyncio.to_thread(save, db)"), ("threadpool", "run_in_threadpool(save, db)")):
        (finding,) = findings(root, route)
        assert finding["code"] == "AM311", finding
        line = _line(root, f"    {text}")
        assert f"line {line} ({text.partition('(')[0]}(save, ...))" in finding["message"], finding["message"]
        assert "nothing in it runs" in finding["message"], finding["message"]


def test_a_dropped_executor_future_is_am311_its_work_runs_unjoined(findings, root):
    (finding,) = findings(root, "executor")
    assert finding["code"] == "AM311", finding
    line = _line(root, "    asyncio.get_running_loop().run_in_executor(None, save, db)")
    assert f"at line {line} starts save in a worker thread and nothing awaits the future" in finding["message"]
    assert "nothing in it runs" not in finding["message"], finding["message"]


def test_phase_one_does_not_say_the_dropped_work_runs(reported, root):
    entry = reported(root, "dropped", "phase1")
    reason = entry["reasons"][entry["codes"].index("AM131")]
    assert "already runs in a worker thread" not in reason, reason
    assert "save never runs" in reason and "check's AM311" in reason, reason


def test_near_miss_awaited_held_scheduled_and_unrelated_offloads(findings, reported, root):
    assert findings(root, "awaited") == []
    assert findings(root, "logged") == []
    entry = reported(root, "awaited", "phase1")
    assert "already runs in a worker thread" in entry["reasons"][entry["codes"].index("AM131")], entry
