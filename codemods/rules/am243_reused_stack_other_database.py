"""AM243 reused-stack-other-database: an existing async stack that may use another database

Phase two reuses an async engine, `async_sessionmaker` or async session dependency the project
already has instead of generating one. It does so only when the async engine is shown to be
bound to the database of the synchronous stack the routes' dependency reaches: the same
settings expression or variable, or a URL derived from it by a driver swap
(`url.replace("sqlite://", "sqlite+aiosqlite://")`, `url.set(drivername=...)`,
`sync_engine.url`, literal URLs that differ only in their driver). Otherwise every migrated
route would read and write another database and still answer 200, so the routes are blocked
and the reason names both sources. A session dependency that picks its sessionmaker at run
time from a dict (`sessionmakers[tenant]()`) names a database only when every sessionmaker in it
is bound to one module-level engine; an engine per tenant blocks until `async-dependency` in
`[tool.async-migrate]` names the async dependency written to pick the same way. A Session
opened with a bind of its own (`SessionLocal(bind=tenant_engine(tenant))`, `Session(bind=
engines[tenant])`, each tenant's engine derived by `execution_options(...)`) reaches the engine that
bind derives from, on either side, not the sessionmaker's; one bind phase two cannot follow to an
engine names none. Blocking is the conservative choice: generating a second
stack beside an existing one would leave two async stacks, one of them perhaps the intended one.

Before:

    engine = create_engine(settings.DATABASE_URL)
    async_engine = create_async_engine(settings.REPORTING_DATABASE_URL)  # existing

After:

    engine = create_engine(settings.DATABASE_URL)
    async_engine = create_async_engine(
        settings.DATABASE_URL.replace("postgresql://", "postgresql+psycopg://")
    )
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM243",
    name="reused-stack-other-database",
    summary="an existing async engine phase two would reuse is not shown to use the sync stack's database",
    fix="build the async engine from the sync stack's URL (the same setting or variable, or "
    "`sync_engine.url` with the driver swapped), or remove it and let phase two generate one",
    doc=__doc__,
)
