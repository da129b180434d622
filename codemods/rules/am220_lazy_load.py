"""AM220 lazy-load: the code reads a relationship its queries do not eager-load: MissingGreenlet under AsyncSession

AsyncSession cannot load a relationship implicitly on attribute access.

Before:

    book = session.get(Book, book_id)
    return book.author.name

After:

    book = await session.get(Book, book_id, options=[selectinload(Book.author)])
    return book.author.name
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM220",
    name="lazy-load",
    summary=(
        "the code reads a relationship its queries do not eager-load: MissingGreenlet under "
        "AsyncSession"
    ),
    fix=(
        "add `selectinload(...)` to the query that loads the object, or refresh the "
        "attribute first"
    ),
    doc=__doc__,
)
