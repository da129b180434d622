"""AM251 deferred-column-read: a deferred column is read on a loaded object: the route is not migrated

A column declared `deferred(...)` or `mapped_column(..., deferred=True)` (or in a
`deferred_group`) is left out of the query and loaded by its first read: implicit IO, which
raises MissingGreenlet under AsyncSession, whether the route, a model property it reads or
FastAPI serialising the response model reads it. A query of the route's closure that names
the column in `undefer(...)` makes the read safe. When the data flow leads the object back to a
query phase two rewrites, the tool adds that option (`undefer(Book.summary)`, or
`selectinload(Book.author).undefer(Author.bio)` for a related object); when the object comes
from elsewhere (a dependency, code the flow cannot follow), the route is blocked, naming the
column.

Before:

    class Book(Base):
        summary: Mapped[str] = mapped_column(Text, deferred=True)

    book = session.get(Book, book_id)
    return {"summary": book.summary}

After:

    book = await session.get(Book, book_id, options=[undefer(Book.summary)])
    return {"summary": book.summary}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM251",
    name="deferred-column-read",
    summary="a deferred column is read on a loaded object: its first read is IO, MissingGreenlet under AsyncSession",
    fix=(
        "add `undefer(Model.column)` to the query that loads the object, or "
        "`await session.refresh(obj, attribute_names=[...])` before reading it"
    ),
    doc=__doc__,
)
