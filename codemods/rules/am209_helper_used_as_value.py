"""AM209 helper-used-as-value: a helper named as a value (not called) somewhere gets an async twin; the sync original stays

Where a function is passed around (`callbacks = [list_books]`), the tool cannot see how it
is called, so the original keeps its synchronous form for those uses.

Before:

    HANDLERS = {"list": list_books}

    def list_books(session: Session): ...

After:

    HANDLERS = {"list": list_books}

    def list_books(session: Session): ...

    async def list_books_async(session: AsyncSession): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM209",
    name="helper-used-as-value",
    summary=(
        "a helper named as a value (not called) somewhere gets an async twin; the sync "
        "original stays"
    ),
    fix="once every use is migrated, delete the sync original and rename the twin",
    doc=__doc__,
)
