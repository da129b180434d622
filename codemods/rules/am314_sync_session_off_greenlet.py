"""AM314 sync-session-off-greenlet: an `async def` handler hands its AsyncSession's `sync_session` to code that queries outside `run_sync`

`session.sync_session` is the synchronous Session behind an AsyncSession. Its connection is
the async driver's, which only answers inside the greenlet `await session.run_sync(...)`
starts: a query, commit or flush through it anywhere else (on the event loop, or in
`run_in_threadpool`) raises `MissingGreenlet`. Handing it to code that only stores objects
(`session.add(...)`) is fine and not reported. Silence one handler with
`# async-migrate: ignore[AM314] reason`.

Before:

    @router.get("/stats")
    async def stats(db: AsyncSessionDep):
        return count_by_status(db.sync_session)

After:

    @router.get("/stats")
    async def stats(db: AsyncSessionDep):
        return await db.run_sync(count_by_status)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM314",
    name="sync-session-off-greenlet",
    summary="an `async def` handler hands its AsyncSession's `sync_session` to code that queries outside `run_sync`",
    fix="run that code through `await session.run_sync(helper, ...)` (the helper gets the synchronous Session "
    "first), or give it an async form that awaits its queries (phase two)",
    doc=__doc__,
)
