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


def test_a_bound_session_method_handed_to_the_thread_is_am131_and_check_is_clean(app, reported, cli):
    root = app(
        """
        import asyncio

        from fastapi.concurrency import run_in_threadpool
        from sqlalchemy import text


        class Repo:
            def __init__(self, session):
                self.session = session


        @router.get("/threadpool")
        async def by_threadpool(session: session_dependency):
            return await run_in_threadpool(session.scalar, text("select 1"))


        @router.get("/to-thread")
        async def by_to_thread(session: session_dependency):
            return await asyncio.to_thread(session.scalar, text("select 1"))


        @router.get("/executor")
        async def by_executor(session: session_dependency):
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, session.scalar, text("select 1"))


        @router.get("/held")
        async def by_held(session: session_dependency):
            repo = Repo(session)
            return await run_in_threadpool(repo.session.scalar, text("select 1"))
        """
    )
    for function in ("by_threadpool", "by_to_thread", "by_executor", "by_held"):
        entry = reported(root, function, "phase1")
        assert (entry["action"], entry["codes"][0]) == ("keep", "AM131"), entry
        assert entry["blocking"] and all(b["offloaded"] for b in entry["blocking"]), entry
    result = cli("check", root, "--format", "json")
    assert (result.exit_code, json.loads(result.stdout)["findings"]) == (0, [])


def test_near_miss_an_argument_of_the_offloading_call_runs_on_the_loop(app, reported, cli):
    root = app(
        """
        from fastapi.concurrency import run_in_threadpool
        from sqlalchemy import text


        class Repo:
            def __init__(self, session):
                self.session = session


        @router.get("/argument")
        async def argument(session: session_dependency):
            return await run_in_threadpool(int, session.scalar(text("select 1")))


        @router.get("/bound-and-argument")
        async def bound_and_argument(session: session_dependency):
            return await run_in_threadpool(session.scalar, session.scalar(text("select 1")))


        @router.get("/held-and-argument")
        async def held_and_argument(session: session_dependency):
            repo = Repo(session)
            return await run_in_threadpool(repo.session.scalar, repo.session.scalar(text("select 1")))
        """
    )
    for function in ("argument", "bound_and_argument", "held_and_argument"):
        entry = reported(root, function, "phase1")
        assert entry["codes"][0] == "AM108", entry
        assert not all(b["offloaded"] for b in entry["blocking"]), entry
    result = cli("check", root, "--format", "json")
    assert result.exit_code == 1
    flagged = {f["function"] for f in json.loads(result.stdout)["findings"] if f["code"] == "AM301"}
    assert flagged == {"argument", "bound_and_argument", "held_and_argument"}


def test_the_request_state_session_handed_to_the_threadpool_is_am131_and_check_is_clean(app, reported, findings):
    from rules.test_am124_holds_sync_session import STATE_MAIN

    root = app(
        """
        from fastapi import Request
        from fastapi.concurrency import run_in_threadpool
        from sqlalchemy import text


        def count(session):
            return session.execute(text("select 1")).scalar()


        @router.get("/offloaded")
        async def offloaded(request: Request):
            return await run_in_threadpool(count, request.state.db)


        @router.get("/on-loop")
        async def on_loop(request: Request):
            await request.body()
            return count(request.state.db)
        """,
        {"main.py": STATE_MAIN.format(value="database_sessionmaker()", extra="")},
    )
    entry = reported(root, "offloaded", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM131"]), entry
    assert findings(root, "offloaded") == []
    near = reported(root, "on_loop", "phase1")
    assert near["codes"][0] == "AM108", near
    assert [f["code"] for f in findings(root, "on_loop")] == ["AM301"]


STREAMED = """
import json

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy import text


def lines(session):
    for row in session.execute(text("select 1")):
        yield f"{row[0]}\\n"


@router.post("/nested")
async def nested(request: Request, session: session_dependency):
    ids = json.loads(await request.body() or b"[]")

    def rows():
        for row in session.execute(text("select 1")):
            yield f"{row[0]} {ids}\\n"

    return StreamingResponse(rows(), media_type="text/plain")


@router.post("/helper")
async def helper(request: Request, session: session_dependency):
    await request.body()
    return StreamingResponse(lines(session))


@router.post("/joined")
async def joined(request: Request, session: session_dependency):
    await request.body()

    def rows():
        for row in session.execute(text("select 1")):
            yield f"{row[0]}\\n"

    return "".join(rows())


@router.post("/twice")
async def twice(request: Request, session: session_dependency):
    await request.body()

    def rows():
        for row in session.execute(text("select 1")):
            yield f"{row[0]}\\n"

    first = list(rows())
    return StreamingResponse(rows(), headers={"X-Rows": str(len(first))})
"""


def test_a_plain_generator_a_streaming_response_iterates_runs_in_the_threadpool(app, reported, cli):
    # An awaiting route streaming a sync generator over its Session blocks nothing: Starlette
    # iterates it with iterate_in_threadpool. check failed it (AM301) with no fix that applied.
    root = app(STREAMED)
    for function in ("nested", "helper"):
        entry = reported(root, function, "phase1")
        assert (entry["action"], entry["codes"]) == ("keep", ["AM131"]), entry
    document = cli.json("check", root)
    assert {f["function"] for f in document["findings"]} == {"joined", "twice"}, document["findings"]


def test_near_miss_a_generator_run_by_the_route_itself_blocks(app, reported):
    root = app(STREAMED)
    for function in ("joined", "twice"):
        entry = reported(root, function, "phase1")
        assert (entry["action"], entry["codes"][0]) == ("keep", "AM108"), entry
