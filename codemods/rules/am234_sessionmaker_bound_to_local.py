"""AM234 sessionmaker-bound-to-local: the sessionmaker is bound to something other than a module-level engine

The async engine is built at module level, so it must be able to name the synchronous
one. An engine built in the sessionmaker call itself, `sessionmaker(bind=create_engine(url,
...))`, is named through the sessionmaker that holds it (`SessionLocal.kw["bind"]`) and does
not block; a project factory's call, a method called on the engine, or `**options` given to
`create_engine` does.

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
