"""AM247 lazy-load-unverified: an object of a model defined outside PATH is read or returned: unverified

The query loads a model whose class the tool has not read (it lives in a package outside
PATH), so it cannot tell which attributes are relationships that would load lazily and
raise MissingGreenlet under AsyncSession. The route is not migrated silently: migrate it by hand, or run the tool with the models'
package under PATH.

Before:

    from shared_models import Book   # not under PATH

    book = session.get(Book, book_id)
    return {"author": book.author.name}

After:

    book = await session.get(Book, book_id, options=[selectinload(Book.author)])
    return {"author": book.author.name}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM247",
    name="lazy-load-unverified",
    summary=(
        "an object of a model defined outside PATH is read or serialised: whether it loads "
        "relationships lazily is unverified"
    ),
    fix="run the tool on a PATH that includes the models, or migrate the route by hand",
    doc=__doc__,
)
