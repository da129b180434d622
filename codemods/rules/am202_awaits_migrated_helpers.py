"""AM202 awaits-migrated-helpers: a migrated route awaits the project helpers that moved with it

Every helper the route reaches with its Session becomes `async def` (or gets an async
twin), and the route awaits it.

Before:

    def read_books(session: SessionDep):
        return list_books(session)

After:

    async def read_books(session: AsyncSessionDep):
        return await list_books(session)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM202",
    name="awaits-migrated-helpers",
    summary="a migrated route awaits the project helpers that moved with it",
    fix="none needed",
    doc=__doc__,
)
