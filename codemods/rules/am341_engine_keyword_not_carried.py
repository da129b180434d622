"""AM341 engine-keyword-not-carried: an engine keyword that changes what the database does cannot be written where the async engine goes

`connect_args=`, `json_serializer=`, `pool_reset_on_return=` and the like decide what each
connection runs (a PostgreSQL `search_path`, a session time zone), how JSON columns are stored
or what a returned connection does. Where the tool cannot write the same value into
`create_async_engine(...)` (a name bound to something other than a literal, a value local to the
function building the engine, one passed on some paths only), the migrated routes would run on
connections set up otherwise than the rest of the application: phase two blocks instead of
dropping it. A module-level name bound once to a literal (in the engine's module or imported
from another project module) is carried as its literal.

Before:

    # db/engine.py
    engine = create_engine(settings.url, connect_args={"options": f"-csearch_path={settings.schema}"})
    # db/session.py
    SessionLocal = sessionmaker(bind=engine)

After:

    async-engine-factory = "db.engine.make_async_engine"   # builds the async engine with the same arguments
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM341",
    name="engine-keyword-not-carried",
    summary="an engine keyword that changes what the database does cannot be written where the async engine goes",
    fix="write the value as a literal (or a module-level name bound once to one), or name an async engine "
    "factory in [tool.async-migrate] async-engine-factory",
    doc=__doc__,
)
