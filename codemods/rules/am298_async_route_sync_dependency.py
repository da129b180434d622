"""AM298 async-route-sync-dependency: a route already on an AsyncSession gets the async twins of its dependencies still on the synchronous Session

A service migrated by hand but for its dependencies: the route awaits an AsyncSession, and a
dependency in its tree (`get_current_user(db: Session = Depends(get_db))`) still opens the
synchronous Session. Each request then holds two Sessions: objects the dependency loads belong
to the other one (`db.add(user)` raises "already attached to session"; a change to `user`
is never committed by the route's commit). Phase two gives those dependencies async twins on
the route's own async session dependency (FastAPI caches it per request, so the request keeps
one Session) and points the route at them; the sync originals stay for the routes that stay.
Where the twin cannot be made, or the route's AsyncSession comes from another dependency than
the stack's, the route is blocked with the reason (AM219), never left "unchanged".

Before:

    def get_current_user(db: Session = Depends(get_db)) -> User: ...

    @router.put("/me")
    async def rename_me(name: str, user: User = Depends(get_current_user),
                        db: AsyncSession = Depends(get_async_db)): ...

After:

    async def get_current_user_async(db: AsyncSession = Depends(get_async_db)) -> User: ...

    @router.put("/me")
    async def rename_me(name: str, user: User = Depends(get_current_user_async),
                        db: AsyncSession = Depends(get_async_db)): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM298",
    name="async-route-sync-dependency",
    summary=(
        "a route already on an AsyncSession gets the async twins of its dependencies still on "
        "the synchronous Session"
    ),
    fix="once every route using the dependency is migrated, delete the sync original and rename the twin",
    doc=__doc__,
)
