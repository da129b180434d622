"""AM233 unbound-sessionmaker: the sessionmaker is not bound to an engine, so there is none to derive the async one from

The async engine copies the synchronous engine's URL and pool settings.

Before:

    SessionLocal = sessionmaker()

After:

    SessionLocal = sessionmaker(engine)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM233",
    name="unbound-sessionmaker",
    summary="the sessionmaker is not bound to an engine, so there is none to derive the async one from",
    fix=(
        "pass the engine to sessionmaker(...), or name an async engine factory in "
        "[tool.async-migrate] async-engine-factory"
    ),
    doc=__doc__,
)
