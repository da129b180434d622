"""AM277 session-in-concurrent-task: a coroutine given the request's Session is scheduled to run concurrently

`asyncio.gather(count(db), remote())`, `asyncio.create_task(count(db))`, `tg.start_soon(count, db)`
hand the coroutine to the event loop, which runs it beside the route's own code. With a
synchronous Session the helper never yields, so nothing overlaps; on an AsyncSession every
statement is an `await`, so two coroutines would use one AsyncSession at once, which
SQLAlchemy does not allow (`InvalidRequestError`, or silently interleaved transactions).

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
