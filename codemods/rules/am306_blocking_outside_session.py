"""AM306 blocking-outside-session: a handler blocks the event loop outside its own Session calls: a synchronous engine's connection, or a background task's Session or engine work

An `async def` route, websocket or dependency that takes a synchronous engine's connection
(`engine.connect()`, `engine.begin()`, `engine.raw_connection()`): database work that is no
Session work. Or any handler (a lifespan too) that schedules an `async def` background task
(`add_task`, `asyncio.create_task`) doing synchronous Session or engine work: the handler's own
Session calls may be fine, the task's run on the loop (`with SessionLocal.begin() as db:` in a
helper the task calls). Either blocks the event loop; neither is an all-clear.
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
    summary=(
        "a handler blocks the event loop outside its own Session calls: with a synchronous engine's connection, "
        "or through an `async def` background task it schedules doing synchronous Session or engine work"
    ),
    fix="run `async-migrate phase1` (it converts a route that never awaits); make a blocking "
    "background task a plain `def`; offload the rest with `await run_in_threadpool(...)`",
    doc=__doc__,
)
