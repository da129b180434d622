"""AM216 generator-helper: a helper that is a generator cannot move: its callers iterate it synchronously

An async generator needs `async for` in every caller.

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
    fix="return a list instead of yielding, or migrate the helper by hand",
    doc=__doc__,
)
