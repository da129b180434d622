"""AM306 blocking-outside-session: a handler blocks the event loop with database work that is not Session work

An `async def` route, websocket or dependency that takes a synchronous engine's connection
(`engine.connect()`, `engine.begin()`, `engine.raw_connection()`), or any handler that
schedules an `async def` background task doing synchronous Session or engine work
(`add_task`, `asyncio.create_task`). Either blocks the event loop; neither is an all-clear.
The advice to move a task's work to a worker thread says what that thread makes of the Session
the work uses: a thread-local `scoped_session` is the worker's own there, to be removed in a
`finally` in the code the worker runs; one keyed on the asyncio task fails there (no task runs);
one keyed alike for every request, one a dependency or middleware hands out, and a process-wide
Session would be used from the worker beside the requests on the event loop: the worker's code
opens a Session of its own instead (phase one keeps such a task `async def`, AM128).
Silence one handler with `# async-migrate: ignore[AM306] reason`.

Before:

    @router.post("/bump")
    async def bump():
        with engine.begin() as conn:
            conn.execute(text("update counters set n = n + 1"))

After:

    @router.post("/bump")
    def bump():
        with engine.begin() as conn:
            conn.execute(text("update counters set n = n + 1"))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM306",
    name="blocking-outside-session",
    summary="a handler blocks the event loop with synchronous engine work or an `async def` background task",
    fix="run `async-migrate phase1` (it converts a route that never awaits); make a blocking "
    "background task a plain `def`; offload the rest with `await run_in_threadpool(...)`",
    doc=__doc__,
)
