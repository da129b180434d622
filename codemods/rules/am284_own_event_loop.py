"""AM284 own-event-loop: a plain function phase two makes `async def` starts an event loop of its own

`asyncio.run(notify())`, `anyio.run(job)` or `loop.run_until_complete(...)` in a `def` route (or a
plain helper it calls in place) works where FastAPI runs it, in a worker thread with no loop of its
own. Phase two makes the route `async def`: it then runs on the application's event loop, where
starting another raises RuntimeError on every request ("asyncio.run() cannot be called from a
running event loop"). The route is blocked, naming the call and the helpers on the way to it.

Before:

    @router.post("/users")
    def add(name: str, db: session_dependency):
        create_user(db, name)
        asyncio.run(notify(name))

After:

    @router.post("/users")
    async def add(name: str, db: async_session_dependency):
        await create_user(db, name)
        await notify(name)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM284",
    name="own-event-loop",
    summary="a plain function phase two makes `async def` starts an event loop of its own (asyncio.run, run_until_complete)",
    fix="await the coroutine instead of running a loop for it (by hand), then run phase two again",
    doc=__doc__,
)
