"""AM117 event-loop-helper: an `async def` handler calls a project helper that uses an API needing the running event loop

The helper runs inside the handler's call: as a `def` in the threadpool there is no running
loop, so `asyncio.get_running_loop()`, `asyncio.create_task()` and their kind raise RuntimeError
there; a loop the code kept (`self._loop.call_soon(...)`) is called from another thread, which
its methods do not allow: what they schedule runs late or not at all.

Before:

    def schedule(job):
        asyncio.get_running_loop().call_soon(job)

    @router.post("/jobs")
    async def start(session: SessionDep):
        schedule(run_job)
        session.commit()

After:

    @router.post("/jobs")
    async def start(session: SessionDep):  # kept: schedule needs the loop
        schedule(run_job)
        await run_in_threadpool(session.commit)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM117",
    name="event-loop-helper",
    summary=(
        "an `async def` handler calls a project helper that uses an API needing the running "
        "event loop"
    ),
    fix=(
        "do without the event-loop API in that helper (phase one then converts it), or "
        "offload the Session work"
    ),
    doc=__doc__,
)
