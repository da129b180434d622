"""AM246 eager-load-added: the migrated route's query gets the loader option its relationship reads need

A relationship read on an object (in the route, its helpers, or by the response model
serialising the returned object) would load lazily, which AsyncSession cannot do. The
data flow leads from the read back to the query that loaded the object, and phase two
adds the option there: `selectinload(A.b)` for each relationship, chained for a path
(`selectinload(A.b).selectinload(B.c)`). A `session.get(M, pk)` becomes a `select` on the
primary key: `get()` returns an object the Session holds already (a dependency sharing it
may have loaded it) and ignores `options=` then, where a `select`'s options load its
unloaded attributes.

Before:

    book = session.get(Book, book_id)
    return [tag.name for tag in book.tags]

After:

    book = (await session.scalars(select(Book).where(Book.id == book_id).options(selectinload(Book.tags)))).unique().one_or_none()
    return [tag.name for tag in book.tags]
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM246",
    name="eager-load-added",
    summary="adds the eager-load option its relationship reads need to the query that loads the object",
    fix="nothing to do; review the added `selectinload(...)` options",
    doc=__doc__,
)
