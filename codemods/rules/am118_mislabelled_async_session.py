"""AM118 mislabelled-async-session: a parameter annotated as a synchronous Session is awaited like an AsyncSession

The body awaits `session.execute(...)` and its kind, so whatever FastAPI injects is an
AsyncSession in practice; the handler does no synchronous Session work and stays.

Before:

    async def read_books(session: Session = Depends(get_async_session)):
        return (await session.scalars(select(Book))).all()

After:

    async def read_books(session: AsyncSession = Depends(get_async_session)):
        return (await session.scalars(select(Book))).all()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM118",
    name="mislabelled-async-session",
    summary="a parameter annotated as a synchronous Session is awaited like an AsyncSession",
    fix="fix the annotation: the object is an AsyncSession",
    doc=__doc__,
)
