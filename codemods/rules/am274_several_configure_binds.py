"""AM274 several-configure-binds: the sessionmaker is bound to different engines (by sessionmaker(...) and its configure(bind=...) calls)

Which engine its Sessions use depends on which call ran last; the async engine stands for
one, and phase two does not guess which.

Before:

    SessionLocal = sessionmaker()
    SessionLocal.configure(bind=primary)


    def use_replica() -> None:
        SessionLocal.configure(bind=replica)

After:

    SessionLocal = sessionmaker()
    SessionLocal.configure(bind=primary)
    ReplicaSession = sessionmaker(replica)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM274",
    name="several-configure-binds",
    summary=(
        "the sessionmaker is bound to different engines (by sessionmaker(...) and its "
        "configure(bind=...) calls)"
    ),
    fix=(
        "bind the sessionmaker to one engine (a second database gets a sessionmaker of its own), or "
        "name an async engine factory in [tool.async-migrate] async-engine-factory"
    ),
    doc=__doc__,
)
