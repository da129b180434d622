"""AM128 coroutine-task-blocks: a route scheduling an `async def` task that opens a synchronous
Session says so; a task that is a plain `def` (run in the threadpool) does not."""

from __future__ import annotations

ROUTES = """
from fastapi import BackgroundTasks
from sqlalchemy.orm import Session

from db.engine import engine


async def audit(name: str) -> None:
    with Session(engine) as db:
        db.execute(text("select 1"))
        db.commit()


def audit_sync(name: str) -> None:
    with Session(engine) as db:
        db.commit()


@router.post("/a")
async def schedule(name: str, tasks: BackgroundTasks):
    tasks.add_task(audit, name)
    return {"ok": True}


@router.post("/b")
async def schedule_sync(name: str, tasks: BackgroundTasks):
    tasks.add_task(audit_sync, name)
    return {"ok": True}
""".replace("from fastapi import BackgroundTasks", "from fastapi import BackgroundTasks\nfrom sqlalchemy import text")


def test_an_async_task_with_a_sync_session_is_reported_with_am128(app, reported):
    found = reported(app(ROUTES), "schedule", "phase1")
    assert "AM128" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM128")]
    assert "api.items.audit" in reason and "api/items.py:16 (sqlalchemy.orm.Session())" in reason, reason


def test_near_miss_a_plain_def_task_is_not(app, reported):
    found = reported(app(ROUTES), "schedule_sync", "phase1")
    assert "AM128" not in found["codes"], found
