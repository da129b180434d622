"""AM238 no-async-driver: the engine URL names a driver with no asyncio counterpart the tool knows

`create_async_engine` would fail with "The asyncio extension requires an async driver to be
used".

Before:

    engine = create_engine("mssql+pymssql://...")

After:

    async-engine-factory = "db.engines.make_async_engine"
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM238",
    name="no-async-driver",
    summary="the engine URL names a driver with no asyncio counterpart the tool knows",
    fix="name an async engine factory in [tool.async-migrate] async-engine-factory",
    doc=__doc__,
)
