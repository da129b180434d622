"""AM325 async-session-in-concurrent-tasks: coroutines sharing the handler's AsyncSession may run at the same time

An AsyncSession runs one operation at a time. Two coroutines working on the handler's
AsyncSession that the event loop runs together raise `InvalidRequestError` ("This session is
provisioning a new connection; concurrent operations are not permitted"), or interleave their
transactions. `check` finds the handler (or a project coroutine it awaits with the AsyncSession)
that hands two or more of them to one `asyncio.gather()`, `asyncio.wait()` or
`asyncio.as_completed()` (directly, through a list built first, or made in a comprehension or
loop), to one task group, or that starts one as a task (`create_task`, `tg.create_task`,
`tg.start_soon(f, db)`) while another such task, or its own awaited work on the AsyncSession,
runs before the task is joined. A coroutine counts when it is a project `async def` given the
AsyncSession, an `async def` method of an object holding it, or the AsyncSession's own method
(`db.execute(q)`). One session coroutine beside work without it (`gather(count(db),
fetch_weather())`), a task awaited at once (`await asyncio.create_task(count(db))`) and
coroutines opening a Session of their own are no finding. A scheduler handed coroutines the
analysis cannot read (`gather(*jobs)` for `jobs` built elsewhere) is reported as unverified.
Silence with `# async-migrate: ignore[AM325] reason`.

Before:

    @router.get("/stats")
    async def stats(db: AsyncSessionDep):
        books, authors = await asyncio.gather(count_books(db), count_authors(db))

After:

    @router.get("/stats")
    async def stats(db: AsyncSessionDep):
        books = await count_books(db)  # one operation at a time on one AsyncSession
        authors = await count_authors(db)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM325",
    name="async-session-in-concurrent-tasks",
    summary="coroutines given the handler's AsyncSession may run at the same time (gather, tasks, a task group)",
    fix="await the AsyncSession's work in sequence, or have each concurrent coroutine open a Session of its own",
    doc=__doc__,
)
