"""AM221 dynamic-relationship: the code reads a `lazy="dynamic"` relationship, which AsyncSession cannot load at all

`lazy="dynamic"` returns a legacy `Query`; the 2.0 form is a write-only collection.

Before:

    return author.books.all()

After:

    return (await session.scalars(author.books.select())).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM221",
    name="dynamic-relationship",
    summary="the code reads a `lazy=\"dynamic\"` relationship, which AsyncSession cannot load at all",
    fix="declare it `lazy=\"write_only\"` and query it explicitly",
    doc=__doc__,
)
