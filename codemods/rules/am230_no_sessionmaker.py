"""AM230 no-sessionmaker: no module-level `sessionmaker(engine, ...)` to build the async stack next to

Phase two adds `create_async_engine`, `async_sessionmaker` and the async dependency beside
the synchronous sessionmaker. Without one, the whole subsystem is blocked.

Before:

    def get_db():
        with Session(engine) as session:
            yield session

After:

    SessionLocal = sessionmaker(engine)

    def get_db():
        with SessionLocal() as session:
            yield session
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM230",
    name="no-sessionmaker",
    summary="no module-level `sessionmaker(engine, ...)` to build the async stack next to",
    fix="define one, or name yours in [tool.async-migrate] sessionmakers",
    doc=__doc__,
)
