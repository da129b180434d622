"""AM269 engine-options-updated: the synchronous engine's options are changed after it is built

`engine.update_execution_options(schema_translate_map=..., isolation_level=...)` changes the
engine in place, at import or in a startup hook. The async engine phase two generates is
another Engine, built from the synchronous engine's URL and construction keywords when its
module is imported: it would not have those options, and the migrated routes would read and
write other tables (another schema, another tenant's) or run their transactions at another
isolation level, answering 200. The routes are blocked, naming the call.

Before:

    engine = create_engine(settings.DATABASE_URL)
    engine.update_execution_options(schema_translate_map={"per_tenant": settings.TENANT})

After:

    engine = create_engine(
        settings.DATABASE_URL,
        execution_options={"schema_translate_map": {"per_tenant": settings.TENANT}},
    )
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM269",
    name="engine-options-updated",
    summary="the synchronous engine's execution options are changed after it is built "
    "(`update_execution_options`), which the generated async engine would not have",
    fix="pass the options where the engine is built (create_engine(..., execution_options={...})), "
    "or write the async engine by hand with them",
    doc=__doc__,
)
