"""AM207 helper-twin: a helper also called outside the subsystem gets an async twin; the sync original stays

The twin's name is the original's plus `twin-suffix` from [tool.async-migrate]
(`_async` by default); `--shared block` blocks the routes instead.

Before:

    def list_books(session: Session): ...

After:

    def list_books(session: Session): ...

    async def list_books_async(session: AsyncSession): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM207",
    name="helper-twin",
    summary="a helper also called outside the subsystem gets an async twin; the sync original stays",
    fix="once every caller is migrated, delete the sync original and rename the twin",
    doc=__doc__,
)
