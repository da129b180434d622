"""AM281 isolation-level-not-carried: the engine's `isolation_level=` cannot be written where the async engine goes

An engine's isolation level decides what each transaction sees and whether statements commit
on their own (`AUTOCOMMIT`). Where the tool cannot write the same value into
`create_async_engine(...)` (it names something of the module that builds the engine, a value
local to the function building it, or is passed on some paths only), the migrated routes would
run at the database's default level: phase two blocks instead of dropping it.

Before:

    # db/engine.py
    engine = create_engine(settings.url, isolation_level=settings.isolation)
    # db/session.py
    SessionLocal = sessionmaker(bind=engine)

After:

    async-engine-factory = "db.engine.make_async_engine"   # builds the async engine with the same level
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM281",
    name="isolation-level-not-carried",
    summary="the engine's `isolation_level=` cannot be written where the async engine goes",
    fix="write the level as a literal, or name an async engine factory in [tool.async-migrate] async-engine-factory",
    doc=__doc__,
)
