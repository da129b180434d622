"""AM273 in-memory-sqlite: the synchronous engine opens an in-memory SQLite database shared through StaticPool

An in-memory SQLite database lives in one connection: the synchronous engine keeps it with
`poolclass=StaticPool` so every Session sees the same tables and rows. The async engine phase
two would add, `create_async_engine(_async_url(engine.url), poolclass=StaticPool)`, opens a
connection of its own, and with it another, empty database: migrated routes would find no
tables (`metadata.create_all(engine)` ran on the synchronous one) and none of the data the
routes still synchronous write. The stack is blocked.

Before:

    engine = create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )

After:

    engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM273",
    name="in-memory-sqlite",
    summary=(
        "the synchronous engine opens an in-memory SQLite database shared through StaticPool, which "
        "an async engine cannot reach"
    ),
    fix=(
        "use a file or server database (a temporary file in tests), or write the async stack by hand "
        "on the same database"
    ),
    doc=__doc__,
)
