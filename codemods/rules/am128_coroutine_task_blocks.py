"""AM128 coroutine-task-blocks: a handler schedules an `async def` background task that blocks

`background_tasks.add_task(audit, ...)`, `asyncio.create_task(audit(...))`, a task group's
`tg.start_soon(audit, ...)`, or a method of an object handed uncalled (`tg.start_soon(repo.sync, x)`
for a repository holding the request's Session): Starlette runs an
`async def` task on the event loop (a plain `def` task in the threadpool). When `audit` opens
a synchronous Session (`SessionLocal()`, `Session(engine)`) or a synchronous engine
connection and works with it, every request that schedules it blocks the loop after its
response, whether the route itself is `async def` or `def`. Phase one cannot fix that by
converting the route: it keeps the reason on the handler, and `check` reports it (AM306).

Before:

    async def audit(name: str) -> None:
        with SessionLocal() as db:
            db.add(AuditEntry(name=name))
            db.commit()

After:

    def audit(name: str) -> None:  # run in the threadpool by Starlette
        with SessionLocal() as db:
            db.add(AuditEntry(name=name))
            db.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM128",
    name="coroutine-task-blocks",
    summary="a handler schedules an `async def` background task that does synchronous database work",
    fix="make the task a plain `def` (Starlette runs it in the threadpool), or move its work to "
    "AsyncSession",
    doc=__doc__,
)
