"""AM242 overridden-method: a method that would move is overridden by a synchronous one that does not

Python picks a method by the instance's class. When `CRUDBase.create` moves to `async def`
(or gets the twin `create_async`) but `CRUDUser.create` overrides it and does not move, a
call on a `CRUDUser` runs synchronous code where the caller awaits, or skips the override.
Every override the route does not reach blocks it.

Before:

    class CRUDBase:
        def create(self, db: Session, data): ...

    class CRUDUser(CRUDBase):
        def create(self, db: Session, data): ...   # reached by no migrated route

After:

    class CRUDBase:
        async def create_async(self, db: AsyncSession, data): ...

    class CRUDUser(CRUDBase):
        async def create_async(self, db: AsyncSession, data): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM242",
    name="overridden-method",
    summary="a method that would move is overridden by a synchronous one that does not",
    fix="migrate the override with it (a route that reaches it), or keep the route as it is",
    doc=__doc__,
)
