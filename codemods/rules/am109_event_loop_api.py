"""AM109 event-loop-api: an `async def` handler uses an API that needs the running event loop

`asyncio.create_task`, `asyncio.get_running_loop` and their kind fail in a threadpool
thread, so phase one keeps the handler.

Before:

    @router.post("/jobs")
    async def start(session: SessionDep):
        asyncio.create_task(run_job())
        session.commit()

After:

    @router.post("/jobs")
    async def start(session: SessionDep):  # kept: create_task needs the loop
        asyncio.create_task(run_job())
        await run_in_threadpool(session.commit)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM109",
    name="event-loop-api",
    summary="an `async def` handler uses an API that needs the running event loop",
    fix="do without the event-loop API (phase one then converts it), or offload the Session work",
    doc=__doc__,
)
