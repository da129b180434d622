"""AM256 wrapped-session-dependency: the route gets its Session from a dependency that wraps the session provider; phase two would drop what the wrapper does

Phase two gives a migrated route the async session dependency in place of the synchronous
one. That is the same only when the route's dependency is the provider itself (it opens the
Session and yields it). A dependency that receives the provider's Session and does more
around it (commits after `yield`, rolls back on error, sets per-request state) would be
replaced by one that does none of it: a route that relied on the wrapper's commit would
answer 200 and save nothing. The route stays as it is until the wrapper has an async form.

Before:

    def get_tx_session(session: Session = Depends(get_session)):
        yield session
        session.commit()

    @router.post("/{book_id}/touch")
    def touch_book(book_id: int, session: Session = Depends(get_tx_session)): ...

After:

    # written by hand; phase two then moves the route onto it
    async def get_async_tx_session(session: AsyncSession = Depends(get_async_db_session)):
        yield session
        await session.commit()

    @router.post("/{book_id}/touch")
    async def touch_book(book_id: int, session: AsyncSession = Depends(get_async_tx_session)): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM256",
    name="wrapped-session-dependency",
    summary=(
        "the route gets its Session from a dependency that wraps the session provider; phase two "
        "would drop what the wrapper does"
    ),
    fix=(
        "write an async form of the wrapping dependency on the async session dependency, give "
        "the route that dependency, and run phase two again"
    ),
    doc=__doc__,
)
