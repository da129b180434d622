"""AM316 nested-coroutine-on-loop: a `def` handler's nested coroutine does synchronous Session or engine work on the event loop

A `def` route runs in the threadpool, but an `async def` generator (or coroutine) it defines
and hands back (`StreamingResponse(lines())`) is driven by the event loop after the route
returns. Its synchronous Session calls block every other request on that worker, although
the route itself is already a `def` and nothing else flags it. The same holds for an async
generator helper defined elsewhere and handed the Session (`StreamingResponse(ticker(db))`).
And for a coroutine helper doing synchronous Session work that the route hands to what runs it
(`fire(record(db))`, `asyncio.run_coroutine_threadsafe(record(db), loop)`): an event loop runs it,
after the route returns or beside it (`asyncio.run(...)` on a loop of the worker thread's own does not count).
So does a plain helper making such a coroutine and handing it on or returning it (`keep(make(db))`),
and a function doing synchronous Session work handed to `anyio.from_thread.run(record, db)` (or
`run_sync`), which runs it on the event loop's own thread.
Silence one handler with
`# async-migrate: ignore[AM316] reason`.

Before:

    @router.get("/titles.txt")
    def export_titles(request: Request):
        db = request.state.db

        async def lines():
            for title in db.scalars(select(Note.title)):
                yield title + "\\n"

        return StreamingResponse(lines())

After:

    @router.get("/titles.txt")
    def export_titles(request: Request):
        db = request.state.db

        def lines():  # Starlette iterates a sync generator in the threadpool
            for title in db.scalars(select(Note.title)):
                yield title + "\\n"

        return StreamingResponse(lines())
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM316",
    name="nested-coroutine-on-loop",
    summary="a `def` handler's nested `async def` or async generator, or an async generator helper it hands the "
    "Session, does synchronous Session or engine work on the event loop",
    fix="make the nested function a plain def (a sync generator is iterated in the threadpool), or move its "
    "Session work to AsyncSession (phase two)",
    doc=__doc__,
)
