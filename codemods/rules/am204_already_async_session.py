"""AM204 already-async-session: the route already takes an `AsyncSession`

Phase two is idempotent: a route already on the async stack is left as it is.

Before:

    async def read_books(session: AsyncSessionDep): ...

After:

    async def read_books(session: AsyncSessionDep): ...  # unchanged
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM204",
    name="already-async-session",
    summary="the route already takes an `AsyncSession`",
    fix="none needed",
    doc=__doc__,
)
