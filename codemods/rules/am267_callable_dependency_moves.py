"""AM267 callable-dependency-moves: a callable instance's `__call__` sharing the Session moves in place

`Depends(post_limiter)` for `post_limiter = RateLimiter("post", limit=5)`, or
`Depends(RoleChecker("admin"))`: FastAPI runs the instance's `__call__`, and awaits it when it
is `async def`. When `__call__` receives the request's Session (`db: Session = Depends(get_db)`)
and only the routes that migrate inject instances of the class (no other route, dependency or
router list, and no code calling the instance), it moves with them in place: `async def
__call__` on the async session dependency, its Session calls and helper calls awaited. The
instances, their state and the routes' `Depends(...)` stay as they are, and the request keeps
one Session. Instances also injected where the code stays synchronous block instead (AM268).

Before:

    class RateLimiter:
        def __call__(self, request: Request, db: Session = Depends(get_db)) -> None:
            if crud.hits_since(db, request.client.host, self.window) >= self.limit:
                raise HTTPException(429)

    post_limiter = RateLimiter(limit=5)

    @router.post("/messages", dependencies=[Depends(post_limiter)])
    def post(body: MessageIn, db: Session = Depends(get_db)): ...

After:

    class RateLimiter:
        async def __call__(self, request: Request, db: AsyncSession = Depends(get_async_db_session)) -> None:
            if await crud.hits_since(db, request.client.host, self.window) >= self.limit:
                raise HTTPException(429)

    post_limiter = RateLimiter(limit=5)

    @router.post("/messages", dependencies=[Depends(post_limiter)])
    async def post(body: MessageIn, db: AsyncSession = Depends(get_async_db_session)): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM267",
    name="callable-dependency-moves",
    summary="a callable instance dependency sharing the route's Session moves in place (`async def __call__`)",
    fix="nothing to do: review the awaited `__call__`",
    doc=__doc__,
)
