"""AM131 offloaded-session-work: an `async def` handler awaits, and all its synchronous Session work already runs in a worker thread

Nothing blocks the event loop: every Session call the handler makes, directly or through a
helper, is handed to `run_in_threadpool(...)`, `asyncio.to_thread(...)` or
`loop.run_in_executor(...)`. A `def` cannot `await`, so the handler stays async, and that
is fine: `check` reports nothing. Phase two can move it to an `AsyncSession` and drop the
offloading.

Before:

    @router.get("/books/{id}")
    async def read_book(id: int, session: SessionDep):
        await audit(id)
        return await run_in_threadpool(get_book, session, id)

After:

    @router.get("/books/{id}")
    async def read_book(id: int, session: SessionDep):
        await audit(id)
        return await run_in_threadpool(get_book, session, id)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM131",
    name="offloaded-session-work",
    summary="an `async def` handler awaits, and all its synchronous Session work already runs in a worker thread",
    fix="nothing to do for phase one; phase two moves it to an AsyncSession",
    doc=__doc__,
)
