"""AM330 unawaited-coroutine-outside-handlers: code outside the handlers calls a project coroutine function without `await`

A management command, a worker loop, a data migration, a test fixture or a script's own
statements (an `if __name__ == "__main__":` block) run synchronously, outside FastAPI. When a
helper they call became `async def` (moved to AsyncSession in place by hand, or a new async
helper called as before), each call only creates a coroutine: nothing in it runs, its Session
work is lost (the rows are never written), and Python warns "coroutine ... was never awaited"
only when the coroutine is collected. `check` reads the handlers' own calls for AM311; this is
the same mistake in the code around them (the helpers a handler calls among it), reported where the call's value is thrown away (a
whole statement), only tested (`if not crud.deactivate(db, pid):`, always true for a
coroutine), kept in a local name nothing reads (`pending = crud.purge(db)`) or that only reads
that never run it read again (`print(pending)`, `len(pending)`, `bool(pending)`, `f"{pending}"`,
`if pending:`), or handed to a builtin that never runs it (`list(crud.fetch(db))`, `len(...)`,
`print(...)`). A call handed to what runs it (`asyncio.run(main())`, `loop.run_until_complete`,
`create_task`) is no finding, nor one whose coroutine is kept in a name that is read again in a
way that may run it (awaited, returned, handed to a call that is no such builtin, stored in a
container or an attribute) or returned. A callee
under a decorator is left out: a decorator may make it synchronous. Silence with
`# async-migrate: ignore[AM330] reason` on the calling function.

A script's own statements are read alike: a coroutine kept in a global name that nothing reads,
or only what never runs it (`pending = crud.purge(db)` then `print(pending)`), unless another
module may read that name (it imports the name or the module). A callee taken out of a container
(`handlers[k](db)`, `getattr(crud, name)(db)`) is one of the functions the container holds, the
function's own display too (`fns = [getattr(crud, name)]`); one that may be a plain function is
no finding. A file that holds none of the words the pre-pass looks for (no Session, no router,
no `async def`: `from app.services import purge_all` then `purge_all()`) is read when it names
a project coroutine function, or a global such a coroutine is kept in. Calling an instance of a
project class whose `__call__` is a coroutine function is a call of that `__call__`: a
module-level instance (`checker(1, db)` for `checker = Access(write=True)`), or one built in
place (`Access(write=True)(1, db)`); a file naming the class or such an instance is read.

Before:

    @cli.command()
    def purge() -> None:
        with SessionLocal() as db:
            crud.products.purge_inactive(db)

After:

    @cli.command()
    def purge() -> None:
        with SessionLocal() as db:
            crud.products.purge_inactive(db)  # the synchronous original, kept beside its async twin
    # or, where the helper has no synchronous version any more:
    #     async def _purge() -> None:
    #         async with async_database_sessionmaker() as db:
    #             await crud.products.purge_inactive(db)
    #     asyncio.run(_purge())
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM330",
    name="unawaited-coroutine-outside-handlers",
    summary=(
        "code outside the handlers (a CLI command, a worker, a data migration, a script, a helper) calls a "
        "project coroutine function without `await`: nothing in it runs"
    ),
    fix=(
        "call the synchronous version (phase two keeps the original beside its async twin), or run the "
        "coroutine with `asyncio.run(...)` on an AsyncSession of its own"
    ),
    doc=__doc__,
)
