"""AM262 session-opened-with-arguments: a helper opens its Session in a form phase two cannot move

Phase two opens the async Session from the async session maker it generates (or reuses):
`with SessionLocal() as s` becomes `async with async_database_sessionmaker() as s`, and
`with SessionLocal.begin() as s` becomes `async with async_database_sessionmaker.begin() as s`.
A Session opened inline on the one engine the async stack stands for, in a `with` block
(`with Session(engine) as s:`, SQLModel's tutorial shape), becomes `async with
AsyncSession(async_engine) as s:` (SQLModel's AsyncSession for `sqlmodel.Session`), keeping
`expire_on_commit=`, `autoflush=` and `future=` as written; a read after a commit is then
refreshed as for any Session that expires on commit, or blocks (AM248).

What stays blocked, with the reason: a Session bound to a connection, to another engine or
to an expression phase two cannot follow to a module-level engine; `binds=`, `twophase=` and
other keywords with no one-to-one counterpart; `s = Session(engine)` outside a `with` block
(its lifetime is not visible as a whole); a stack that stands for no single engine; a session
maker given arguments (`SessionLocal(bind=other_engine)`); and a function whose Session a
project decorator opens and passes in (`@with_session def f(session, ...)`), which would become
a coroutine the synchronous wrapper never awaits. Each blocks the routes that reach it.

Before:

    def count_books() -> int:
        with Session(engine, twophase=True) as session:
            return session.scalar(select(func.count(Book.id)))

After:

    async def count_books() -> int:  # by hand
        async with async_database_sessionmaker() as session:
            return await session.scalar(select(func.count(Book.id)))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM262",
    name="session-opened-with-arguments",
    summary="a function opens its Session in a form phase two cannot move (arguments it cannot map, "
    "outside a `with`, or from a decorator)",
    fix="open the Session as `with Session(engine) as s:` on the stack's engine, or from the session maker "
    "without arguments (`with SessionLocal() as s`), then rerun phase two",
    doc=__doc__,
)
