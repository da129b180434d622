"""AM278 other-database: phase two would run statements meant for another database on the async stack's engine

Phase two moves a subsystem onto one async stack: one async engine, standing for the
synchronous sessionmaker its routes' session dependencies open. In a service with a second
database (an analytics or reporting one), two shapes would send that database's statements to
the async engine instead, where its rows are read from and written to the wrong database (or
fail on a missing table):

- a helper the subsystem reaches opens its own Session from another sessionmaker
  (`with AnalyticsSession() as adb:`, `AnalyticsSession.begin()`): it would be opened from the
  async stack's sessionmaker. The routes reaching it stay synchronous.
- the sessionmaker itself routes one Session to several engines: `binds={Base: engine,
  AnalyticsBase: analytics_engine}` (in the constructor or a `configure(...)` call), or a project
  Session class overriding `get_bind()` (a read-replica router). One async engine cannot stand
  for it, even one built by `async-engine-factory`. The whole subsystem stays synchronous.

Before:

    @router.post("/users")
    def create_user(payload: UserIn, db: SessionDep):
        user = create(db, payload)
        track("user_created")  # opens `AnalyticsSession()`, the analytics database
        return user

After:

    @router.post("/users")
    async def create_user(payload: UserIn, db: AsyncSessionDep):
        user = await create(db, payload)
        await run_in_threadpool(track, "user_created")  # by hand: stays on its own database
        return user
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM278",
    name="other-database",
    summary="phase two would run statements meant for another database on the async stack's engine (a "
    "Session from another sessionmaker, a sessionmaker with `binds=` or a `get_bind()` override)",
    fix="keep the helper synchronous and call it through `await run_in_threadpool(...)`; move the routes one "
    "database at a time onto a sessionmaker bound to one engine, or migrate them by hand onto an "
    "`async_sessionmaker(binds=...)` of async engines (phase two neither generates nor reuses one)",
    doc=__doc__,
)
