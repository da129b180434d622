"""AM242 overridden-method: a method that would move is overridden by a synchronous one that does not

Python picks a method by the instance's class. When `CRUDBase.create` moves to `async def`
(or gets the twin `create_async`) but `CRUDUser.create` overrides it and does not move, a
call on a `CRUDUser` runs synchronous code where the caller awaits, or skips the override.
Every override the route does not reach blocks it, unless an earlier run (for a subsystem
reaching the override) wrote the override's async twin: the method's own twin then takes that
name, and the route moves. So a subsystem reaching only the base method, run first, stays
blocked until it is run again after the one reaching the override.

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
    fix="migrate the override with it (a route that reaches it; or a subsystem reaching it, then this one again), "
    "or keep the route as it is",
    doc=__doc__,
)
