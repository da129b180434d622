"""AM206 helper-migrates: a helper called only within the subsystem becomes `async def` on AsyncSession

Nothing outside the subsystem calls it, so it moves with the routes that reach it.

Before:

    def list_books(session: Session):
        return session.scalars(select(Book)).all()

After:

    async def list_books(session: AsyncSession):
        return (await session.scalars(select(Book))).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM206",
    name="helper-migrates",
    summary="a helper called only within the subsystem becomes `async def` on AsyncSession",
    fix="none needed",
    doc=__doc__,
)
