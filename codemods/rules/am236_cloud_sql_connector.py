"""AM236 cloud-sql-connector: the engine connects through the Cloud SQL Python Connector, which needs an async factory

The async connector takes `async_creator=` and `connect_async(..., "asyncpg")`, which the
tool cannot write for you.

Before:

    engine = create_engine("postgresql+pg8000://", creator=getconn)

After:

    async-engine-factory = "db.cloud.make_async_engine"
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM236",
    name="cloud-sql-connector",
    summary="the engine connects through the Cloud SQL Python Connector, which needs an async factory",
    fix=(
        "write an async engine factory with `create_async_connector()` and name it in "
        "async-engine-factory"
    ),
    doc=__doc__,
)
