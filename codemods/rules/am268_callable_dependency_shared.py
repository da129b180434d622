"""AM268 callable-dependency-shared: a callable instance dependency sharing the Session is used where the code stays synchronous

FastAPI runs `__call__` for every instance of the class: `async def __call__` on the
AsyncSession would serve the routes, dependencies or router lists that stay on the
synchronous Session too (two Sessions in one request), and code calling the instance
directly (`limiter(request, db)`) would get a coroutine back. So while instances of the class
are injected, or the instance called, outside the routes that migrate, those routes are
blocked, naming each place.

Before:

    # api/messages.py migrates, api/legacy.py stays
    post_limiter = RateLimiter(limit=5)

    @router.post("/messages", dependencies=[Depends(post_limiter)])      # api/messages.py
    def post(...): ...

    @legacy.post("/v0/messages", dependencies=[Depends(post_limiter)])   # api/legacy.py
    def post_v0(...): ...

After:

    # unchanged: migrate both routers together, or give the migrating routes an instance
    # of a class of their own
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM268",
    name="callable-dependency-shared",
    summary="a callable instance dependency sharing the route's Session is also used where the code stays synchronous",
    fix="migrate the routes using it together, or give the migrating routes an instance of a class of their own",
    doc=__doc__,
)
