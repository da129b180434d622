"""AM262 session-opened-with-arguments: a helper opens its Session in a form phase two cannot move

Phase two opens the async Session from the async session maker it generates (or reuses):
`with SessionLocal() as s` becomes `async with async_database_sessionmaker() as s`, and
`with SessionLocal.begin() as s` becomes `async with async_database_sessionmaker.begin() as s`.
An opener given arguments (`Session(engine)`, `SessionLocal(bind=other_engine)`) names an
engine or settings of the synchronous stack, which the async maker would not take as they
are; and a function whose Session a project decorator opens and passes in
(`@with_session def f(session, ...)`) would become a coroutine the synchronous wrapper never
awaits. Either blocks the routes that reach it.

Before:

    def count_books() -> int:
        with Session(engine) as session:
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
    summary="a function opens its Session with arguments, or gets it from a decorator: phase two cannot move it",
    fix="open the Session from the session maker without arguments (`with SessionLocal() as s`), then rerun phase two",
    doc=__doc__,
)
