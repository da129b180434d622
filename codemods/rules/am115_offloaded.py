"""AM115 offloaded: `--offload-mixed` wrapped blocking helper calls in `await run_in_threadpool(...)`

Only a helper call made as a statement, not awaited and not nested in another call, is
offloaded: its result, if any, is not used, so moving it to the threadpool changes
nothing but where it runs.

Before:

    async def create(book: BookIn, session: SessionDep):
        await notify(book)
        save_book(session, book)

After:

    async def create(book: BookIn, session: SessionDep):
        await notify(book)
        await run_in_threadpool(save_book, session, book)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM115",
    name="offloaded",
    summary="`--offload-mixed` wrapped blocking helper calls in `await run_in_threadpool(...)`",
    fix="none needed",
    doc=__doc__,
)
