"""AM128 coroutine-task-blocks: a handler schedules an `async def` background task that blocks

`background_tasks.add_task(audit, ...)`, a response's `background=BackgroundTask(audit, ...)`,
`asyncio.create_task(audit(...))`, a task group's
`tg.start_soon(audit, ...)`, or a method of an object handed uncalled (`tg.start_soon(repo.sync, x)`
for a repository holding the request's Session): Starlette runs an
`async def` task on the event loop (a plain `def` task in the threadpool). When `audit` opens
a synchronous Session (`SessionLocal()`, `Session(engine)`) or a synchronous engine
connection and works with it, every request that schedules it blocks the loop after its
response, whether the route itself is `async def` or `def`. Converting the route does not
fix that; phase one makes the task itself a plain `def` when every use of it is Starlette's
(`add_task` on a `BackgroundTasks`, `BackgroundTask(...)`), nothing calls or awaits it and it
never awaits, and says why it keeps it otherwise. `check` reports it until then (AM306).

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
