"""AM330 other-sessionmaker: a function opens its Session from a sessionmaker the async stack does not stand for

A service with two databases has two synchronous sessionmakers (`SessionLocal` for the main
database, `AnalyticsSession` for a second one). Phase two moves a subsystem onto one async
stack, the one that stands for the sessionmaker its routes' session dependencies open. A helper
the subsystem reaches that opens its own Session from the other sessionmaker would be opened
from that async stack's sessionmaker instead, and would read and write the wrong database. The
routes reaching it stay synchronous; offload the helper by hand until that database has an
async stack of its own.

Before:

    @router.post("/users")
    async def create_user(payload: UserIn, db: AsyncSessionDep):
        ...
        track("user_created")  # opens `AnalyticsSession()`, the analytics database

After:

    @router.post("/users")
    async def create_user(payload: UserIn, db: AsyncSessionDep):
        ...
        await run_in_threadpool(track, "user_created")
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM330",
    name="other-sessionmaker",
    summary="a function opens its Session from a sessionmaker the async stack does not stand for (another "
    "database)",
    fix="keep that function synchronous and call it through `await run_in_threadpool(...)` from the migrated "
    "code, or give its database an async stack of its own",
    doc=__doc__,
)
