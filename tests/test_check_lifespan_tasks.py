"""`check` on the coroutines a startup handler or lifespan schedules: they run while the
application serves, so their blocking Session work delays requests (AM306), where the handler's
own work, run once before the first request, is no finding."""

from __future__ import annotations

import textwrap

import pytest

MAIN = textwrap.dedent(
    """\
    import asyncio
    import contextlib

    from fastapi import FastAPI
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from db.engine import engine


    async def poll_stock() -> None:
        while True:
            with Session(engine) as db:
                db.execute(text("select 1"))
            await asyncio.sleep(60)


    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(60)


    @contextlib.asynccontextmanager
    async def lifespan(app):
        with Session(engine) as db:
            db.execute(text("select 1"))
        task = asyncio.create_task(poll_stock())
        beat = asyncio.create_task(heartbeat())
        yield
        task.cancel()
        beat.cancel()


    app = FastAPI(lifespan=lifespan)


    @app.on_event("startup")
    async def warm_up():
        with Session(engine) as db:
            db.execute(text("select 1"))


    @app.get("/health")
    async def health():
        return {"ok": True}
    """
)


def test_a_task_a_lifespan_schedules_is_a_finding_its_own_startup_work_is_not(cli, project, app_files):
    root = project({**app_files, "main.py": MAIN})
    document = cli.json("check", root)
    found = {f["function"]: f for f in document["findings"]}
    assert set(found) == {"lifespan"}, found
    assert found["lifespan"]["code"] == "AM306"
    message = found["lifespan"]["message"]
    assert "schedules the coroutine function main.poll_stock" in message
    assert "heartbeat" not in message and "line 14" not in message.split("schedules")[0]


# The loop's own `create_task` (a local loop, or `get_running_loop()` inline) and a TaskGroup's
# schedule the coroutine beside the requests as `asyncio.create_task` does.


@pytest.mark.parametrize(
    "start",
    [
        "loop = asyncio.get_running_loop()\n    task = loop.create_task(poll_stock())",
        "task = asyncio.get_running_loop().create_task(poll_stock())",
    ],
    ids=["loop-local", "loop-inline"],
)
def test_a_task_the_event_loop_schedules_is_a_finding(cli, project, app_files, start):
    main = MAIN.replace("task = asyncio.create_task(poll_stock())", start)
    assert main != MAIN
    document = cli.json("check", project({**app_files, "main.py": main}))
    found = {f["function"]: f for f in document["findings"]}
    assert set(found) == {"lifespan"}, found
    assert "schedules the coroutine function main.poll_stock" in found["lifespan"]["message"]


def test_a_task_group_in_a_route_schedules_its_coroutine(cli, project, app_files):
    route = MAIN + textwrap.dedent(
        """

        @app.post("/refresh")
        async def refresh():
            async with asyncio.TaskGroup() as tg:
                tg.create_task(poll_stock())
        """
    )
    document = cli.json("check", project({**app_files, "main.py": route}))
    codes = {(f["function"], f["code"]) for f in document["findings"]}
    assert ("refresh", "AM306") in codes, codes


WORKER = textwrap.dedent(
    """\
    import asyncio
    import contextlib

    from fastapi import FastAPI
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from db.engine import engine


    class Worker:
        def __init__(self, interval: float) -> None:
            self.interval = interval

        async def poll(self) -> None:
            while True:
                with Session(engine) as db:
                    db.execute(text("select 1"))
                await asyncio.sleep(self.interval)

        async def beat(self) -> None:
            while True:
                await asyncio.sleep(self.interval)


    worker = Worker(60)


    @contextlib.asynccontextmanager
    async def lifespan(app):
        local = Worker(30)
        tasks = [asyncio.create_task({started}), asyncio.create_task(local.beat())]
        yield
        for task in tasks:
            task.cancel()


    app = FastAPI(lifespan=lifespan)


    @app.get("/health")
    async def health():
        return {"ok": True}
    """
)


@pytest.mark.parametrize("started", ["worker.poll()", "local.poll()"], ids=["module-instance", "local-instance"])
def test_a_method_of_a_project_instance_a_lifespan_schedules_is_a_finding(cli, project, app_files, started):
    document = cli.json("check", project({**app_files, "main.py": WORKER.replace("{started}", started)}))
    found = {f["function"]: f for f in document["findings"]}
    assert set(found) == {"lifespan"}, found
    assert "schedules the coroutine function main.Worker.poll" in found["lifespan"]["message"]
    assert "Worker.beat" not in found["lifespan"]["message"]


CALLBACK = textwrap.dedent(
    """\
    import asyncio
    import contextlib

    from fastapi import FastAPI
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from db.engine import engine


    def purge() -> None:
        with Session(engine) as db:
            db.execute(text("delete from t"))
            db.commit()


    def tick() -> None:
        print("tick")


    @contextlib.asynccontextmanager
    async def lifespan(app):
        loop = asyncio.get_running_loop()
        handle = {scheduled}
        yield
        handle.cancel()


    app = FastAPI(lifespan=lifespan)


    @app.post("/purge")
    async def purge_now():
        asyncio.get_running_loop().call_soon({now})
        return {"ok": True}
    """
)


@pytest.mark.parametrize(
    "scheduled", ["loop.call_later(60, purge)", "loop.call_at(loop.time() + 60, purge)"], ids=["call-later", "call-at"]
)
def test_a_plain_function_the_event_loop_calls_back_is_a_finding(cli, project, app_files, scheduled):
    main = CALLBACK.replace("{scheduled}", scheduled).replace("{now}", "purge")
    document = cli.json("check", project({**app_files, "main.py": main}))
    found = {f["function"]: f for f in document["findings"]}
    assert set(found) == {"lifespan", "purge_now"}, found
    for finding in found.values():
        assert finding["code"] == "AM306"
        assert "schedules the function main.purge on the event loop" in finding["message"]
        assert "run_in_threadpool(purge)" in finding["message"]
    phase1 = cli.json("phase1", project({**app_files, "main.py": main}))
    assert [h["action"] for h in phase1["handlers"] if h["function"] == "purge_now"] == ["keep"]


def test_near_miss_a_callback_without_session_work_is_no_finding(cli, project, app_files):
    main = CALLBACK.replace("{scheduled}", "loop.call_later(60, tick)").replace("{now}", "tick")
    document = cli.json("check", project({**app_files, "main.py": main}))
    assert document["findings"] == [], document["findings"]


# The router's own hook attributes, set after the application is built, register as the
# keywords do: a lifespan assigned to `lifespan_context`, a handler appended to `on_startup`.
@pytest.mark.parametrize(
    "register",
    [
        "app = FastAPI()\napp.router.lifespan_context = lifespan",
        "app = FastAPI()\napp.router.on_startup.append(start)",
    ],
    ids=["lifespan-context", "on-startup-append"],
)
def test_a_hook_set_on_the_router_is_a_lifecycle_handler(cli, project, app_files, register):
    main = MAIN.replace("app = FastAPI(lifespan=lifespan)", register).replace(
        "@app.on_event(\"startup\")\nasync def warm_up():",
        "async def start():\n    asyncio.create_task(poll_stock())\n\n\nasync def warm_up():",
    )
    assert main.count("app = FastAPI()") == 1 and "async def start" in main
    root = project({**app_files, "main.py": main})
    handler = "lifespan" if "lifespan_context" in register else "start"
    found = {f["function"]: f for f in cli.json("check", root)["findings"]}
    assert set(found) == {handler}, found
    assert found[handler]["code"] == "AM306"
    assert "startup/shutdown handler schedules the coroutine function main.poll_stock" in found[handler]["message"]
    kinds = {h["function"]: h["kind"] for h in cli.json("scan", root)["handlers"]}
    assert kinds[handler] == "lifecycle", kinds
