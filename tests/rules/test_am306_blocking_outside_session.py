"""AM306 blocking-outside-session: `check` flags an `async def` route using a synchronous engine's
connection and one scheduling a blocking `async def` task; a route without either is clean."""

from __future__ import annotations

ROUTES = """
from fastapi import BackgroundTasks
from sqlalchemy import text

from db.engine import database_sessionmaker, engine


@router.post("/bump")
async def bump():
    with engine.begin() as conn:
        conn.execute(text("select 1"))
    return {"ok": True}


async def audit(name: str) -> None:
    with database_sessionmaker() as db:
        db.execute(text("select 1"))
        db.commit()


@router.post("/audit")
async def schedule(name: str, tasks: BackgroundTasks):
    tasks.add_task(audit, name)
    return {"ok": True}


@router.get("/ping")
async def ping():
    return {"ok": True}
"""


def test_engine_work_and_a_blocking_task_are_flagged_with_am306(app, findings):
    root = app(ROUTES)
    bump = findings(root, "bump")
    assert [f["code"] for f in bump] == ["AM306"], bump
    assert "engine.begin()" in bump[0]["message"], bump
    schedule = findings(root, "schedule")
    assert [f["code"] for f in schedule] == ["AM306"], schedule
    assert "api.items.audit" in schedule[0]["message"], schedule


def test_near_miss_a_route_without_database_work_is_clean(app, findings):
    assert findings(app(ROUTES), "ping") == []
