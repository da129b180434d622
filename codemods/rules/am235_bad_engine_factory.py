"""AM235 bad-engine-factory: the configured `async-engine-factory` cannot be used

The factory must be a synchronous function returning `create_async_engine(...)`.

Before:

    async-engine-factory = "make_engine"

After:

    async-engine-factory = "db.cloud.make_engine"
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM235",
    name="bad-engine-factory",
    summary="the configured `async-engine-factory` cannot be used",
    fix="name a plain `def` by dotted path (`db.cloud.make_engine`) in a module under the root",
    doc=__doc__,
)
