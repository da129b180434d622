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


# A repository a dependency builds from the request's Session, whose coroutine method is handed
# uncalled to a task group or a background task: the route's own code does no Session work.
HELD = """
import anyio
from fastapi import BackgroundTasks, Depends
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.dependencies import session_dependency


class Audit:
    def __init__(self, session: Session):
        self.session = session

    async def record(self, name: str) -> None:
        self.session.execute(text("select 1"))

    async def ping(self, name: str) -> None:
        pass


def get_audit(session: session_dependency) -> Audit:
    return Audit(session)


@router.post("/a")
async def schedule(name: str, audit: Audit = Depends(get_audit), tasks: BackgroundTasks = None):
    SCHEDULE
    return {"ok": True}
"""
GROUP = "async with anyio.create_task_group() as tg:\n        tg.start_soon(audit.METHOD, name)"
BACKGROUND = "tasks.add_task(audit.METHOD, name)"


def test_a_held_session_method_handed_uncalled_to_a_task_group_or_background_task_is_am128(app, reported, findings):
    for schedule in (GROUP, BACKGROUND):
        root = app(HELD.replace("SCHEDULE", schedule.replace("METHOD", "record")))
        found = reported(root, "schedule", "phase1")
        assert "AM128" in found["codes"], found
        reason = found["reasons"][found["codes"].index("AM128")]
        assert "schedules the coroutine function api.items.Audit.record at line" in reason, reason
        assert "(self.session.execute())" in reason, reason
        assert [f["code"] for f in findings(root, "schedule")] == ["AM306"]


def test_near_miss_a_held_method_without_session_work_handed_to_a_task_group_is_not(app, reported, findings):
    root = app(HELD.replace("SCHEDULE", GROUP.replace("METHOD", "ping")))
    assert "AM128" not in reported(root, "schedule", "phase1")["codes"]
    assert findings(root, "schedule") == []


# `asyncio.create_task` needs a coroutine, and a task that awaits cannot be a plain def: the
# advice must not be "make it a plain def", which would raise TypeError or not compile.
CREATED = """
import asyncio

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.engine import engine


async def record(name: str) -> None:
    with Session(engine) as db:
        db.execute(text("select 1"))
        db.commit()


async def notify(name: str) -> None:
    async with httpx.AsyncClient() as client:
        await client.post("http://hooks.test", json={"name": name})
    with Session(engine) as db:
        db.commit()


@router.post("/created")
async def created(name: str):
    asyncio.create_task(record(name))
    return {"ok": True}


@router.post("/notified")
async def notified(name: str):
    asyncio.create_task(notify(name))
    return {"ok": True}
"""


def test_a_created_task_is_not_told_to_become_a_plain_def_that_create_task_refuses(app, reported, findings):
    root = app(CREATED)
    reason = next(r for c, r in zip(*(reported(root, "created", "phase1")[k] for k in ("codes", "reasons")),
                                    strict=True) if c == "AM128")
    assert "asyncio.create_task needs a coroutine" in reason and "run_in_threadpool(record, ...)" in reason, reason
    assert "Starlette runs it in the threadpool" not in reason, reason
    [finding] = [f for f in findings(root, "created") if f["code"] == "AM306"]
    assert "asyncio.create_task needs a coroutine" in finding["message"], finding


def test_a_task_that_awaits_is_told_to_offload_its_session_work_inside_it(app, reported, findings):
    root = app(CREATED)
    reason = next(r for c, r in zip(*(reported(root, "notified", "phase1")[k] for k in ("codes", "reasons")),
                                    strict=True) if c == "AM128")
    assert "cannot become a plain def: move its Session work into a plain def helper" in reason, reason
    [finding] = [f for f in findings(root, "notified") if f["code"] == "AM306"]
    assert "notify awaits too, at api/items.py:" in finding["message"], finding
