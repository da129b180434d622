"""AM315 blocking-periodic-task: an `async def` a repeating decorator runs beside the requests does synchronous Session work on the event loop

`@repeat_every(seconds=60)` (fastapi-utils, fastapi-restful) under `@app.on_event("startup")`,
or awaited once in a lifespan, schedules the function to run again every period for as long as
the application serves. The startup handler runs once; the function it repeats does not: an
`async def` one is awaited on the event loop, so its synchronous Session or engine work stops every
request for as long as it takes, every period. The decorator runs a plain `def` in the
threadpool instead. Silence with `# async-migrate: ignore[AM315] reason`.

Before:

    @app.on_event("startup")
    @repeat_every(seconds=60)
    async def purge_sessions():
        with SessionLocal() as db:
            db.execute(delete(LoginSession).where(LoginSession.expires < func.now()))
            db.commit()

After:

    @app.on_event("startup")
    @repeat_every(seconds=60)
    def purge_sessions():
        with SessionLocal() as db:
            db.execute(delete(LoginSession).where(LoginSession.expires < func.now()))
            db.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM315",
    name="blocking-periodic-task",
    summary=(
        "an `async def` a repeating decorator (`@repeat_every`) runs beside the requests does synchronous "
        "Session work on the event loop"
    ),
    fix=(
        "make it a plain def when it awaits nothing (the decorator runs one in the threadpool), else move the "
        "Session work into a plain def helper and `await run_in_threadpool(helper, ...)`, or use an AsyncSession"
    ),
    doc=__doc__,
)
