"""AM103 calls-session-opener: an `async def` handler calls a project helper that opens its own synchronous Session

The helper's Session work runs inside the handler's call, on the event loop. The chain of
helpers is followed across modules; phase one converts the handler.

Before:

    def count_books() -> int:
        with SessionLocal() as session:
            return session.scalar(select(func.count(Book.id)))

    @router.get("/books/count")
    async def books_count():
        return {"count": count_books()}

After:

    @router.get("/books/count")
    def books_count():
        return {"count": count_books()}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM103",
    name="calls-session-opener",
    summary="an `async def` handler calls a project helper that opens its own synchronous Session",
    fix="none needed: `async-migrate phase1` converts it to `def`",
    doc=__doc__,
)
