"""AM216 generator-helper: a helper that is a generator cannot move: phase two does not rewrite generators

A sync generator's callers iterate it synchronously (a `StreamingResponse` in the threadpool),
where an AsyncSession's calls cannot be awaited; made an async generator, it needs `async for`
in every caller. An async generator handed the Session (server-sent events) is left for its
Session calls to be awaited by hand. A `@contextmanager` Session opener (`with session_scope()
as s`) that only opens its Session from the sessionmaker, yields it once and commits, rolls back
or closes it (`try`/`except`/`finally`, `with SessionLocal() as s: yield s`, `with
SessionLocal.begin() as s: yield s`) is no such helper: it gets an `@asynccontextmanager` twin
on the async sessionmaker, which the migrated callers enter with `async with` (wrapped in its
module as `session_scope = contextmanager(_scope)`, the twin is `session_scope_async`). One doing
more (a log line, parameters, another decorator, wrapped in another module), or entered beside
other context managers in one `with`, or called other than as `with opener() as s`, blocks
with the statement or call named: write its twin by hand, or pass the route's Session in.
A `@contextmanager` helper its callers hand their Session (`with transaction(db):`) whose body
only yields that Session and commits, rolls back, flushes or closes it gets an
`@asynccontextmanager` twin taking the AsyncSession, entered by the migrated callers with `async
with transaction_async(db):`; one doing more, or entered other than as the one item of a `with`
binding no name (`with transaction(db) as s:`, beside another context manager), blocks alike.
A generator dependency sharing the route's Session (not the session provider), which only
FastAPI runs, is no such helper: its twin is an async generator FastAPI iterates alike,
its `Iterator`/`Iterable`/`Generator` annotation made the async one under the same spelling
(`typing.Iterator[X]` -> `typing.AsyncIterator[X]`), unless it holds `yield from` or a `return`
of a value, or is annotated `Generator[X, S, R]` with R other than None, which an async
generator cannot; one that awaits nothing stays a plain `def` generator, its annotation as
written. So is an `async def` generator dependency (fastapi-users' `async def
get_user_manager(user_db=Depends(get_user_db)): yield UserManager(user_db)`): its twin depends on
the twins of what it is handed, its Session calls awaited. A generator method of a class holding the Session blocks only the routes
calling it, named in their reason (`Publisher.lines`): it is left out of the class's parallel
async class (AM255), which the routes calling the other methods migrate onto.

Before:

    def iter_books(session: Session):
        yield from session.scalars(select(Book))

After:

    def list_books(session: Session):
        return list(session.scalars(select(Book)))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM216",
    name="generator-helper",
    summary="a helper that is a generator cannot move: phase two does not rewrite generators",
    fix=(
        "return a list instead of yielding, or migrate the helper by hand (an async generator awaiting its "
        "Session calls, `async for row in await db.stream(q)`; a `@contextmanager` opener doing more than "
        "its Session's lifecycle: an `@asynccontextmanager` twin by hand, or the caller's Session passed in)"
    ),
    doc=__doc__,
)
