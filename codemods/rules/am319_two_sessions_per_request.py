"""AM319 two-sessions-per-request: an `async def` route on an AsyncSession has a dependency that still receives the synchronous Session

A service migrated by hand but for its dependencies: the route awaits its AsyncSession, and a
dependency in its tree (`get_current_user(db: Session = Depends(get_db))`, through any number
of dependencies, an `Annotated` alias, `Security(...)`, a class dependency or the router's
`dependencies=[...]`) still opens the synchronous Session. Each request then holds two Sessions
(two connections, two transactions), and what the dependency loads belongs to the synchronous
one: handed to the AsyncSession (`db.add(user)`) it raises "already attached to session", and a
change to it is never written by the route's commit. The serious case, an object handed across,
is named in the finding.

Before:

    def get_current_user(db: Session = Depends(get_db)) -> User: ...

    @router.put("/me")
    async def rename_me(name: str, user: User = Depends(get_current_user),
                        db: AsyncSession = Depends(get_async_db)):
        user.name = name
        db.add(user)  # already attached to session
        await db.commit()

After:

    async def get_current_user_async(db: AsyncSession = Depends(get_async_db)) -> User: ...

    @router.put("/me")
    async def rename_me(name: str, user: User = Depends(get_current_user_async),
                        db: AsyncSession = Depends(get_async_db)):
        user.name = name
        db.add(user)
        await db.commit()
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM319",
    name="two-sessions-per-request",
    summary=(
        "an `async def` route on an AsyncSession has a dependency that still receives the "
        "synchronous Session"
    ),
    fix=(
        "`async-migrate phase2` on the route's subsystem gives the dependency an async twin on the "
        "route's AsyncSession parameter (AM298); or write its async form by hand"
    ),
    doc=__doc__,
)
