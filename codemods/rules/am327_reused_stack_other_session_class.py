"""AM327 reused-stack-other-session-class: an existing async sessionmaker runs another Session class

Phase two reuses an async stack the project already has: one written by hand, or the one phase
two generated for another subsystem. An AsyncSession runs a synchronous Session of its
`sync_session_class`, and a project Session subclass changes what that Session does: a
read replica's `ReadOnlySession` whose `flush()` raises, an `AppSession` whose `__init__` or
`get_bind()` decides more. A service with a read/write split has two sessionmakers on one
database (`ReadSession = sessionmaker(bind=engine, class_=ReadOnlySession)`, `WriteSession =
sessionmaker(bind=engine)`); the read routes migrate first and their stack keeps
`sync_session_class=ReadOnlySession`. The write routes' subsystem would reuse that stack, on
the same URL, and every write would then run through `ReadOnlySession` and fail (or, the other
way round, read routes would lose what their class did). Phase two compares the Session
methods each class overrides (its project bases included) and blocks the routes when they
differ, naming both classes.

Before:

    WriteSession = sessionmaker(bind=engine)
    async_database_sessionmaker = async_sessionmaker(
        async_engine, expire_on_commit=False, sync_session_class=ReadOnlySession
    )  # the read routes' stack

After:

    async_write_engine = ...  # a stack of the write routes' own: phase two run with a
    # configuration naming other async-engine, async-sessionmaker, async-dependency, async-alias
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM327",
    name="reused-stack-other-session-class",
    summary="an existing async sessionmaker phase two would reuse runs a Session class that overrides "
    "other Session methods than the sync stack's sessionmaker makes",
    fix="give this subsystem an async stack of its own (run phase two with a configuration naming other "
    "async-engine, async-sessionmaker, async-dependency and async-alias), or give the async sessionmaker "
    "`sync_session_class=` the sync sessionmaker's `class_`",
    doc=__doc__,
)
