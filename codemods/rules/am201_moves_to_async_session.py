"""AM201 moves-to-async-session: a route of the subsystem moves to `AsyncSession` and awaits its Session calls

Its Session parameter becomes the async dependency, its Session I/O methods are awaited,
and legacy `Query` chains become 2.0 `select()` statements.

Before:

    @router.get("/books")
    def read_books(session: SessionDep):
        return session.scalars(select(Book)).all()

After:

    @router.get("/books")
    async def read_books(session: AsyncSessionDep):
        return (await session.scalars(select(Book))).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM201",
    name="moves-to-async-session",
    summary="a route of the subsystem moves to `AsyncSession` and awaits its Session calls",
    fix="none needed: `async-migrate phase2 --subsystem S` rewrites it",
    doc=__doc__,
)
