"""AM234 sessionmaker-bound-to-local: the sessionmaker is bound to something other than a module-level engine

The async engine is built at module level, so it must be able to name the synchronous
one.

Before:

    SessionLocal = sessionmaker(make_engine())

After:

    engine = make_engine()
    SessionLocal = sessionmaker(engine)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM234",
    name="sessionmaker-bound-to-local",
    summary="the sessionmaker is bound to something other than a module-level engine",
    fix="assign the engine to a module-level name first, or name an async engine factory",
    doc=__doc__,
)
