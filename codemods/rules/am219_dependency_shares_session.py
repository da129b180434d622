"""AM219 dependency-shares-session: a dependency of the route receives the same synchronous Session, so the route cannot move alone

FastAPI caches a dependency per request, so the route and its dependency share one Session;
moving only the route to the async session dependency gives the request two Sessions (two
different Session dependencies, two Sessions), and objects the dependency loads would not be
saved by the route's commit. A callable instance dependency (`Depends(Access(write=True))`)
whose instances other code also calls (a route, a script's `__main__` block, a unit test or a
fixture: `checker(1, db)`, `Access(write=True)(1, db)`) gets no async twin and cannot move in
place (those callers would get a coroutine, a permission check that never runs): the routes
injecting it stay.

Before:

    def current_user(session: SessionDep) -> User: ...

    @router.post("/orders")
    def place(user: Annotated[User, Depends(current_user)], session: SessionDep): ...

After:

    async def current_user(session: AsyncSessionDep) -> User: ...

    @router.post("/orders")
    async def place(user: Annotated[User, Depends(current_user)], session: AsyncSessionDep): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM219",
    name="dependency-shares-session",
    summary=(
        "a dependency of the route receives the same synchronous Session, so the route "
        "cannot move alone"
    ),
    fix="move the dependency with the route (an async twin), or keep the route as it is",
    doc=__doc__,
)
