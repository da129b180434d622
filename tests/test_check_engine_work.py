"""`check` and phase one on blocking database work that is not Session work: a synchronous
engine's connection (in the route, in a helper it calls, in an `async def` helper it awaits)
and `async def` background tasks that open a synchronous Session. Never an all-clear."""

from __future__ import annotations

import textwrap

HEAD = """\
import asyncio

from fastapi import APIRouter, BackgroundTasks
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.engine import engine

router = APIRouter()
"""
ROUTES = HEAD + textwrap.dedent(
    """

    def count_rows() -> int:
        with engine.connect() as conn:
            return conn.execute(text("select 1")).scalar()


    async def count_rows_async() -> int:
        with engine.connect() as conn:
            return conn.execute(text("select 1")).scalar()


    async def audit(name: str) -> None:
        with Session(engine) as db:
            db.execute(text("select 1"))
            db.commit()


    @router.get("/sync-helper")
    async def through_a_helper():
        return {"n": count_rows()}


    @router.get("/async-helper")
    async def through_an_async_helper():
        return {"n": await count_rows_async()}


    @router.post("/task")
    async def with_a_task(name: str):
        asyncio.create_task(audit(name))
        return {"ok": True}


    @router.post("/def-task")
    def def_route_with_a_task(name: str, tasks: BackgroundTasks):
        tasks.add_task(audit, name)
        return {"ok": True}


    @router.get("/offloaded")
    async def offloaded():
        from starlette.concurrency import run_in_threadpool

        return {"n": await run_in_threadpool(count_rows)}
    """
)


def build(project, app_files):  # type: ignore[no-untyped-def]
    return project({**app_files, "api/__init__.py": "", "api/items.py": ROUTES})


def test_check_flags_engine_work_through_helpers_and_blocking_tasks(cli, project, app_files):
    root = build(project, app_files)
    document = cli.json("check", root)
    found = {f["function"]: f for f in document["findings"]}
    assert set(found) == {
        "through_a_helper", "through_an_async_helper", "with_a_task", "def_route_with_a_task",
    }, found
    assert all(f["code"] == "AM306" for f in found.values())
    assert "api.items.count_rows(...)" in found["through_a_helper"]["message"]
    assert "api.items.count_rows_async(...)" in found["through_an_async_helper"]["message"]
    assert "api.items.audit" in found["with_a_task"]["message"]
    assert found["def_route_with_a_task"]["message"].startswith("def route schedules the coroutine function api.items.audit")


def test_phase_one_converts_a_route_whose_helper_uses_the_engine_and_keeps_one_that_awaits(cli, project, app_files):
    root = build(project, app_files)
    document = cli.json("phase1", root)
    actions = {h["function"]: (h["action"], h["codes"]) for h in document["handlers"] if h["kind"] == "route"}
    assert actions["through_a_helper"] == ("convert", ["AM127"])
    assert actions["through_an_async_helper"][0] == "keep" and "AM127" in actions["through_an_async_helper"][1]
    assert "AM128" in actions["with_a_task"][1]
    assert "AM128" in actions["def_route_with_a_task"][1]
    assert actions["offloaded"][0] == "keep" and "AM127" not in actions["offloaded"][1]



DEPENDENCY = HEAD + textwrap.dedent(
    """
    from fastapi import Depends


    def count_rows() -> int:
        with engine.connect() as conn:
            return conn.execute(text("select 1")).scalar()


    async def row_count() -> int:
        return count_rows()


    @router.get("/count")
    async def through_a_dependency(n: int = Depends(row_count)):
        return {"n": n}
    """
)


def test_the_fix_names_the_kind_of_handler_phase_one_converts(cli, project, app_files):
    # "phase1 converts a route that never awaits" was said of a dependency too.
    root = project({**app_files, "api/__init__.py": "", "api/items.py": DEPENDENCY})
    found = {f["function"]: f["message"] for f in cli.json("check", root)["findings"]}
    assert "`async-migrate phase1` converts a dependency that never awaits" in found["row_count"], found
    assert "converts a route" not in found["row_count"]
