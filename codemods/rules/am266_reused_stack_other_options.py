"""AM266 reused-stack-other-options: an existing async engine on the same URL with other options

Phase two reuses an async engine the project already has when it is built from the
synchronous engine's URL (AM243). The URL is not all that decides what a Session reaches: a
`schema_translate_map` sends every table to another schema (a tenant's, the reports'), and an
`isolation_level` of `"AUTOCOMMIT"` commits each statement by itself, so a request that fails
halfway keeps its first writes. When the reused engine sets one of these (or
`postgresql_readonly`, `postgresql_deferrable`) differently from the synchronous engine, as
written in their constructions and `.execution_options(...)` calls, the migrated routes would
read and write other tables, or keep other writes, and still answer 200; so they are blocked,
naming each option and both engines.

Before:

    engine = create_engine(settings.DATABASE_URL)
    reporting_engine = create_async_engine(  # existing
        settings.DATABASE_URL.replace("sqlite://", "sqlite+aiosqlite://"),
        execution_options={"schema_translate_map": {None: "reporting"}},
    )

After:

    engine = create_engine(settings.DATABASE_URL)
    async_engine = create_async_engine(  # the routes' own, with the synchronous engine's options
        settings.DATABASE_URL.replace("sqlite://", "sqlite+aiosqlite://")
    )
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM266",
    name="reused-stack-other-options",
    summary="an existing async engine phase two would reuse sets another schema_translate_map or "
    "isolation_level than the sync stack's engine",
    fix="give the async engine the synchronous engine's options, or remove it and let phase two "
    "generate one from the synchronous engine",
    doc=__doc__,
)
