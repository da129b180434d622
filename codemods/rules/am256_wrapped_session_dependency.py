"""AM256 wrapped-session-dependency: the route gets its Session from a dependency that wraps the session provider; phase two would drop what the wrapper does

Phase two gives a migrated route the async session dependency in place of the synchronous
one. That is the same only when the route's dependency is the provider itself (it opens the
Session and yields it). A dependency that receives the provider's Session and only runs the
request in a transaction on it (`with db.begin(): yield db`, or `try: yield db; db.commit()`
with `except: db.rollback(); raise`) gets an async twin on the async session dependency, which
the migrated routes use. One that does anything more around the Session (sets per-request
state, calls a synchronous helper) would lose it or run it on the wrong Session: the route
stays as it is, the reason naming the statement, until the wrapper has an async form.

Before:

    def get_tx_session(session: Session = Depends(get_session)):
        audit(session)
        yield session
        session.commit()

    @router.post("/{book_id}/touch")
    def touch_book(book_id: int, session: Session = Depends(get_tx_session)): ...

After:

    # written by hand; phase two then moves the route onto it
    async def get_async_tx_session(session: AsyncSession = Depends(get_async_db_session)):
        await audit(session)
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
