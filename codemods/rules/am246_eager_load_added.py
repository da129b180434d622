"""AM246 eager-load-added: the migrated route's query gets the loader option its relationship reads need

A relationship read on an object (in the route, its helpers, or by the response model
serialising the returned object) would load lazily, which AsyncSession cannot do. The
data flow leads from the read back to the query that loaded the object, and phase two
adds the option there: `selectinload(A.b)` for each relationship, chained for a path
(`selectinload(A.b).selectinload(B.c)`). A `session.get(M, pk)` becomes a `select` on the
primary key: `get()` returns an object the Session holds already (a dependency sharing it
may have loaded it) and ignores `options=` then, where a `select`'s options load its
unloaded attributes; `.unique()` ends it where the class may load a collection joined
(`lazy="joined"`), which a 2.0 result refuses to hand back without it. A query of a method
on a Session its instance holds (`self.db.get(...)` in a repository) gets the option the
same way, in the parallel async class when the class is shared with synchronous code.

Before:

    book = session.get(Book, book_id)
    return [tag.name for tag in book.tags]

After:

    book = (await session.scalars(select(Book).where(Book.id == book_id).options(selectinload(Book.tags)))).one_or_none()
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
