"""AM328 application-session-override: the application itself overrides its session dependency

`app.dependency_overrides[get_db] = get_audited_db` in the application's own code (not its tests)
means every route's Session comes from `get_audited_db`: what it does per request (`db.info`
set for an auditing listener, another sessionmaker, a tenant's database) is part of how the
service runs. FastAPI looks an override up by the dependency a route names, so a migrated route
depending on the async session dependency would bypass it, in production. Phase two blocks the
stack and names each such override; one the tests make is a follow-up instead (the tests' own
database), and the async dependency overridden the same way in the application covers it. A key
written through a helper (`install_overrides(app, {get_db: get_audited_db})` looping over its
mapping) is read at the helper's call; one phase two cannot read there (a call's result, a helper
no call of which is seen) blocks as unverified, naming the write.

Before:

    def get_audited_db():
        with SessionLocal() as db:
            db.info["audited"] = True
            yield db

    app.dependency_overrides[get_db] = get_audited_db

After:

    # written by hand; phase two then reuses the async stack
    async def get_audited_async_db():
        async with async_database_sessionmaker() as session:
            session.info["audited"] = True
            yield session

    app.dependency_overrides[get_db] = get_audited_db
    app.dependency_overrides[get_async_db_session] = get_audited_async_db
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM328",
    name="application-session-override",
    summary="the application overrides its synchronous session dependency, which the migrated routes would bypass",
    fix="write the override's async counterpart (an `async def` generator yielding an AsyncSession that does "
    "what the override does) and override the async session dependency with it beside the synchronous one, "
    "then run phase two again; or drop the override",
    doc=__doc__,
)
