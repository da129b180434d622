"""AM122 nested-coroutine-blocks: synchronous Session or engine work inside a nested coroutine runs on the event loop whatever the route is

A streaming response's `async def` generator, for instance, is driven by the event loop
even when the route itself is `def`.

Before:

    @router.get("/export")
    async def export(session: SessionDep):
        async def rows():
            for book in session.scalars(select(Book)):
                yield book.title
        return StreamingResponse(rows())

After:

    @router.get("/export")
    def export(session: SessionDep):
        def rows():
            for book in session.scalars(select(Book)):
                yield book.title
        return StreamingResponse(rows())
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM122",
    name="nested-coroutine-blocks",
    summary=(
        "synchronous Session or engine work inside a nested coroutine runs on the event loop whatever "
        "the route is"
    ),
    fix=(
        "make the nested function a plain def (a sync generator streams from the "
        "threadpool), or move its work to AsyncSession"
    ),
    doc=__doc__,
)
