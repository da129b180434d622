"""AM131 offloaded-session-work: an async handler that awaits and runs all its Session work in a
worker thread stays async with AM131, not AM108, and `check` finds nothing."""

from __future__ import annotations

import json


def test_session_work_offloaded_by_helper_and_by_lambda_is_am131_and_check_is_clean(app, reported, cli):
    root = app(
        """
        import asyncio

        from fastapi.concurrency import run_in_threadpool
        from sqlalchemy import text


        def count(session):
            return session.execute(text("select 1")).scalar()


        @router.get("/helper")
        async def by_helper(session: session_dependency):
            await asyncio.sleep(0)
            return await run_in_threadpool(count, session)


        @router.get("/lambda")
        async def by_lambda(session: session_dependency):
            await asyncio.sleep(0)
            return await asyncio.to_thread(lambda: session.execute(text("select 1")).scalar())
        """
    )
    for function in ("by_helper", "by_lambda"):
        entry = reported(root, function, "phase1")
        assert (entry["action"], entry["codes"]) == ("keep", ["AM131"]), entry
        assert all(b["offloaded"] for b in entry["blocking"]), entry
    result = cli("check", root, "--format", "json")
    assert (result.exit_code, json.loads(result.stdout)["findings"]) == (0, [])


def test_near_miss_one_call_left_on_the_loop_is_am108_and_check_reports_it(app, reported, cli):
    root = app(
        """
        import asyncio

        from sqlalchemy import text


        @router.get("/lambda")
        async def by_lambda(session: session_dependency):
            first = await asyncio.to_thread(lambda: session.execute(text("select 1")).scalar())
            return first + session.execute(text("select 1")).scalar()
        """
    )
    entry = reported(root, "by_lambda", "phase1")
    assert entry["codes"][0] == "AM108", entry
    assert [b["offloaded"] for b in entry["blocking"]] == [True, False], entry
    assert cli("check", root).exit_code == 1
