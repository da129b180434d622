"""AM216 generator-helper: a helper that is a generator cannot move: phase two does not rewrite generators

A sync generator's callers iterate it synchronously (a `StreamingResponse` in the threadpool),
where an AsyncSession's calls cannot be awaited; made an async generator, it needs `async for`
in every caller. An async generator handed the Session (server-sent events) is left for its
Session calls to be awaited by hand. A `@contextmanager` Session helper
(`with session_scope() as s`) is named as one: phase two does not rewrite a `with` into
`async with`, so write an `@asynccontextmanager` twin by hand, or pass the route's Session in.
A generator dependency sharing the route's Session (not the session provider), which only
FastAPI runs, is no such helper: its twin is an async generator FastAPI iterates alike,
its `Iterator`/`Iterable`/`Generator` annotation made the async one under the same spelling
(`typing.Iterator[X]` -> `typing.AsyncIterator[X]`), unless it holds `yield from` or a `return`
of a value, or is annotated `Generator[X, S, R]` with R other than None, which an async
generator cannot.

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
        "Session calls, `async for row in await db.stream(q)`; a `@contextmanager`: an "
        "`@asynccontextmanager` twin, or the caller's Session passed in)"
    ),
    doc=__doc__,
)
