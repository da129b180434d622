"""AM306 blocking-outside-session: a handler blocks the event loop with database work that is not Session work

An `async def` route, websocket or dependency that takes a synchronous engine's connection
(`engine.connect()`, `engine.begin()`, `engine.raw_connection()`), or any handler that
schedules an `async def` background task doing synchronous Session or engine work
(`add_task`, `asyncio.create_task`). Either blocks the event loop; neither is an all-clear.
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
