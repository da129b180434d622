"""AM277 session-in-concurrent-task: a coroutine given the request's Session is scheduled to run concurrently

`asyncio.gather(count(db), remote())`, `asyncio.create_task(count(db))`, `tg.start_soon(count, db)`
hand the coroutine to the event loop, which runs it beside the route's own code. With a
synchronous Session the helper never yields, so nothing overlaps; on an AsyncSession every
statement is an `await`, so two coroutines would use one AsyncSession at once, which
SQLAlchemy does not allow (`InvalidRequestError`, or silently interleaved transactions).
Every spelling counts: inside an argument (`gather(*[count(db, i) for i in ids])`,
`asyncio.wait([...])`, `as_completed(...)`), `asyncio.run_coroutine_threadsafe(...)`, an
`asyncio.shield(...)` nothing awaits, through a list or name built first
(`coros.append(count(db))`, then `gather(*coros)`), a task group's `tg.create_task(...)`, and
the methods of an object holding the Session, called (`gather(repo.a(), repo.b())`) or handed
uncalled (`tg.start_soon(svc.refresh_all)`, `tg.start_soon(repo.sync, x)`, `tg.start_soon(self.job)`),
whether the route builds the object or a dependency does. A starred argument
whose coroutines the analysis cannot read (`gather(*jobs)` for a parameter) blocks too.
`asyncio.wait_for(count(db), 5)` awaits in place and is no hand-off.

Before:

    async def count_books(db: Session) -> int:
        return db.scalar(select(func.count(Book.id)))

    @router.get("/stats")
    async def stats(db: session_dependency):
        books, weather = await asyncio.gather(count_books(db), fetch_weather())

After:

    @router.get("/stats")
    async def stats(db: session_dependency):
        books = await count_books(db)  # the Session's work in sequence
        weather = await fetch_weather()  # only work without the Session runs concurrently
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM277",
    name="session-in-concurrent-task",
    summary="a coroutine given the request's Session is scheduled to run concurrently (gather, create_task, ...)",
    fix="await the Session's work in sequence, schedule only work without the Session, or give the task its own "
    "Session",
    doc=__doc__,
)
