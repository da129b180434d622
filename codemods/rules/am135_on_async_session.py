"""AM135 on-async-session: an `async def` handler already works on an AsyncSession, so it stays `async def`

Its Session calls are awaited: nothing in it blocks the event loop through a synchronous
Session, and phase one leaves it as it is (action `keep`). Said instead of "does no synchronous
Session work" (AM105), which would read as a handler that touches no database at all. The
AsyncSession is a parameter (`session: AsyncSessionDep`), comes through a dependency in its tree
(a repository built on one), or is opened in its body (`async with async_session() as s`).
`check` still reports a synchronous helper it calls (AM302).

Before:

    @router.get("/books")
    async def read_books(session: AsyncSessionDep):
        return (await session.scalars(select(Book))).all()

After:

    @router.get("/books")
    async def read_books(session: AsyncSessionDep):  # unchanged
        return (await session.scalars(select(Book))).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM135",
    name="on-async-session",
    summary="an `async def` handler already works on an AsyncSession, so it stays `async def`",
    fix="none needed: its Session calls are awaited",
    doc=__doc__,
)
