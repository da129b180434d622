"""AM275 configure-bind-import-cycle: the engine configure(bind=...) names lives in a module that imports the sessionmaker's

The async engine goes next to the sessionmaker and is built from the synchronous engine's
URL, so the sessionmaker's module would have to import the engine from a module that
imports it back.

Before:

    # main.py
    from db.session import SessionLocal

    engine = create_engine(DATABASE_URL)
    SessionLocal.configure(bind=engine)

After:

    # db/engine.py
    engine = create_engine(DATABASE_URL)

    # main.py
    from db.engine import engine
    from db.session import SessionLocal

    SessionLocal.configure(bind=engine)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM275",
    name="configure-bind-import-cycle",
    summary="the engine configure(bind=...) names lives in a module that imports the sessionmaker's",
    fix=(
        "move the engine to a module that does not import the sessionmaker's (or bind it in "
        "sessionmaker(...)), or name an async engine factory in [tool.async-migrate] async-engine-factory"
    ),
    doc=__doc__,
)
