"""AM301 blocking-session: an `async def` route, websocket or dependency does synchronous Session work on the event loop

Found directly, through helpers that take its Session or open one, or through a Session
handed to code outside the project. Calls offloaded to `run_in_threadpool` do not count.
Silence one handler with `# async-migrate: ignore[AM301] reason` (or      `ignore[blocking-
session]`).

Before:

    @router.get("/books")
    async def read_books(session: SessionDep):
        return session.scalars(select(Book)).all()

After:

    @router.get("/books")
    def read_books(session: SessionDep):
        return session.scalars(select(Book)).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM301",
    name="blocking-session",
    summary=(
        "an `async def` route, websocket or dependency does synchronous Session work on the "
        "event loop"
    ),
    fix=(
        "run `async-migrate phase1` (it converts what it can); the finding names the fix for "
        "the rest"
    ),
    doc=__doc__,
)
