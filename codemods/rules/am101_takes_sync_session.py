"""AM101 takes-sync-session: an `async def` handler takes a synchronous Session, uses it, and never awaits

Every call on the Session blocks the event loop for the whole query. FastAPI runs a plain
`def` route or dependency in its threadpool, so the same body as `def` no longer holds up
other requests. Phase one converts the handler (action `convert`).

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
    code="AM101",
    name="takes-sync-session",
    summary="an `async def` handler takes a synchronous Session, uses it, and never awaits",
    fix="none needed: `async-migrate phase1` converts it to `def`",
    doc=__doc__,
)
