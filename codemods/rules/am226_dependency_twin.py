"""AM226 dependency-twin: a dependency that shares the route's Session moves with it as an async twin

FastAPI caches a dependency per request: `Depends(get_db_session)` in a route and in its
`get_current_user` dependency is the same Session (two different Session dependencies would
be two Sessions). When the route moves to
the async dependency, the dependency (and every dependency or `Annotated` alias on the way
to it) gets an async twin that the migrated routes use; the sync originals stay for the
routes that stay. A twin without Session work of its own stays a plain `def`. So do the
dependencies of a class-based view (`user: User = Depends(get_current_user)` beside
`db: Session = Depends(get_db)` under `@cbv(router)`, or its `__init__`'s parameters): the
view's declarations name the twins, which only the view's routes, moving together, use.

Before:

    def get_current_user(session: session_dependency) -> User: ...
    current_user_dependency = Annotated[User, Depends(get_current_user)]

    @router.get("/me")
    def me(user: current_user_dependency, session: session_dependency): ...

After:

    def get_current_user(session: session_dependency) -> User: ...
    async def get_current_user_async(session: async_session_dependency) -> User: ...
    current_user_dependency = Annotated[User, Depends(get_current_user)]
    current_user_dependency_async = Annotated[User, Depends(get_current_user_async)]

    @router.get("/me")
    async def me(user: current_user_dependency_async, session: async_session_dependency): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM226",
    name="dependency-twin",
    summary="a dependency that shares the route's Session moves with it as an async twin",
    fix="once every route using the dependency is migrated, delete the sync original and rename the twin",
    doc=__doc__,
)
