"""AM116 still-blocking: a handler phase one keeps `async def` still blocks the event loop at the calls named

Reported after the reasons a handler stays `async def`, so a reader sees what still runs
on the event loop.

Before:

    async def create(book: BookIn, session: SessionDep):
        await notify(book)
        session.add(Book(**book.model_dump()))
        session.commit()

After:

    async def create(book: BookIn, session: SessionDep):
        await notify(book)
        await run_in_threadpool(save_book, session, book)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM116",
    name="still-blocking",
    summary="a handler phase one keeps `async def` still blocks the event loop at the calls named",
    fix="see the handler's other reasons: each names its fix; `check` lists them",
    doc=__doc__,
)
