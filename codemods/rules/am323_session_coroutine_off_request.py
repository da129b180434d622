"""AM323 session-coroutine-off-request: a coroutine given the request's AsyncSession is left running after the handler

`asyncio.create_task(save(db))`, `asyncio.ensure_future(save(db))`, `loop.create_task(save(db))`,
`asyncio.run_coroutine_threadsafe(save(db), loop)` or an `asyncio.shield(save(db))` that nothing
awaits or holds to await later runs the coroutine as a task of its own: the handler returns while
it still works on the request's AsyncSession, which the session dependency then closes, and any
other statement on that AsyncSession meanwhile is concurrent use (SQLAlchemy raises, or the
transactions interleave). A coroutine handed to a project function or another call the analysis
does not follow (`fire(save(db))`) may be run so: it is reported as unverified, unless the handler
awaits a project `async def` that awaits the parameter it lands in on every path and reads it no
other way (`await in_request(save(db))` with `async def in_request(c): return await c`). A task group's
`tg.create_task(...)` / `tg.start_soon(...)` joins its tasks before the `async with` ends.
Silence with `# async-migrate: ignore[AM323] reason`.

Before:

    @router.post("/items")
    async def create(item: ItemIn, db: AsyncSessionDep):
        asyncio.create_task(audit(db, item.name))
        return await crud.create(db, item)

After:

    @router.post("/items")
    async def create(item: ItemIn, db: AsyncSessionDep):
        created = await crud.create(db, item)
        await audit(db, item.name)  # or give the task a Session of its own
        return created
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM323",
    name="session-coroutine-off-request",
    summary="a coroutine given the request's AsyncSession is scheduled and not awaited: it runs after the handler",
    fix="await it in the handler, or have the task open a Session of its own",
    doc=__doc__,
)
