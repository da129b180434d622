"""AM240 commit-on-exit-differs: the async dependency would not commit the way the sync one does

A session dependency that commits after `yield` (or opens `sessionmaker.begin()`) saves what a
route only added or flushed. An async dependency without that commit rolls the same writes
back when the request ends: the route answers 200 and nothing is saved. Phase two generates
the async dependency with the same commit; it blocks when it would reuse an existing async
dependency that commits differently, or when the sync dependencies the subsystem's routes
reach disagree among themselves (one only other routers inject is theirs and does not block):
then only the routes reaching the other kind, or both, stay synchronous, when the rest can move.

Before:

    def get_db():
        db = SessionLocal()
        try:
            yield db
            db.commit()
        finally:
            db.close()

    async def get_async_db():  # existing, reused by phase two
        async with AsyncSessionLocal() as session:
            yield session

After:

    async def get_async_db():
        async with AsyncSessionLocal() as session:
            yield session
            await session.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM240",
    name="commit-on-exit-differs",
    summary="the async session dependency would not commit at the end of a request the way the sync one does",
    fix="make the async dependency commit after `yield` exactly when the sync one does (or the reverse), "
    "then run phase two again",
    doc=__doc__,
)
