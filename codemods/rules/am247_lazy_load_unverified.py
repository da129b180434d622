"""AM247 lazy-load-unverified: an ORM object is read in a way the analysis cannot see into: unverified

The tool cannot tell which attributes the code reads, or whether they are relationships that
would load lazily and raise MissingGreenlet under AsyncSession: the query loads a model whose
class it has not read (a package outside PATH), or the object goes to code that reads it by
more than attribute names (`getattr` with a computed name, a pydantic model validated through
an alias path with an index, a `before` model validator returning what the tool cannot follow,
or a validator, computed field or serializer reading further on an object the tool cannot
trace to its query), or it reads an attribute that is no column of a class mapped imperatively
with `properties=` the tool cannot read (`properties=build_properties()`). The route is not
migrated silently: run the tool
with the models' package under PATH, or add the loader options the code needs and migrate the
route by hand.

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
        "an ORM object is read where the analysis cannot see (a model outside PATH, an alias path, a "
        "validator): whether it loads relationships lazily is unverified"
    ),
    fix=(
        "if the models are outside PATH, run the tool with them under PATH; otherwise add the eager-load "
        "options the code needs to its query and migrate the route by hand"
    ),
    doc=__doc__,
)
