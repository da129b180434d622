"""AM237 sync-only-engine-argument: the engine is built with `creator=` or `module=`, which an async engine cannot take

`create_async_engine` needs `async_creator=` (an async function returning a driver
connection) and an asyncio DBAPI.

Before:

    engine = create_engine(url, creator=connect)

After:

    async-engine-factory = "db.engines.make_async_engine"
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM237",
    name="sync-only-engine-argument",
    summary="the engine is built with `creator=` or `module=`, which an async engine cannot take",
    fix="name an async engine factory in [tool.async-migrate] async-engine-factory",
    doc=__doc__,
)
