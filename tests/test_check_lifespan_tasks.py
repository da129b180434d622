"""`check` on the coroutines a startup handler or lifespan schedules: they run while the
application serves, so their blocking Session work delays requests (AM306), where the handler's
own work, run once before the first request, is no finding."""

from __future__ import annotations

import textwrap

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
