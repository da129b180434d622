"""AM121 coroutine-helper-blocks: the handler calls a coroutine helper that blocks the event loop with synchronous Session work

Converting the route would not help: the helper it awaits still runs on the loop.

Before:

    async def load(session: Session):
        return session.scalars(select(Book)).all()

    @router.get("/books")
    async def read_books(session: SessionDep):
        return await load(session)

After:

    def load(session: Session):
        return session.scalars(select(Book)).all()

    @router.get("/books")
    async def read_books(session: SessionDep):
        return await run_in_threadpool(load, session)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM121",
    name="coroutine-helper-blocks",
    summary=(
        "the handler calls a coroutine helper that blocks the event loop with synchronous "
        "Session work"
    ),
    fix=(
        "make the helper a plain def and call it with `await run_in_threadpool(...)`, or "
        "move it to AsyncSession"
    ),
    doc=__doc__,
)
