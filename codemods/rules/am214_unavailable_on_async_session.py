"""AM214 unavailable-on-async-session: the function calls a Session method that `AsyncSession` does not have

The legacy bulk methods (`bulk_save_objects`, `bulk_insert_mappings`,
`bulk_update_mappings`) exist only on the synchronous Session.

Before:

    session.bulk_save_objects(books)

After:

    await session.execute(insert(Book), [b.__dict__ for b in books])
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM214",
    name="unavailable-on-async-session",
    summary="the function calls a Session method that `AsyncSession` does not have",
    fix="use `insert()`/`update()` statements or `await session.run_sync(...)`",
    doc=__doc__,
)
