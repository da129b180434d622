"""AM216 generator-helper: a helper that is a generator cannot move: its callers iterate it synchronously

An async generator needs `async for` in every caller. A `@contextmanager` Session helper
(`with session_scope() as s`) is named as one: phase two does not rewrite a `with` into
`async with`, so write an `@asynccontextmanager` twin by hand, or pass the route's Session in.

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
    summary="a helper that is a generator cannot move: its callers iterate it synchronously",
    fix=(
        "return a list instead of yielding, or migrate the helper by hand (a `@contextmanager`: an "
        "`@asynccontextmanager` twin, or the caller's Session passed in)"
    ),
    doc=__doc__,
)
