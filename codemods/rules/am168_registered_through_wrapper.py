"""AM168 registered-through-wrapper: the route is registered through project code that receives its endpoint (a router's `add_api_route`/`api_route` override, a route class's `__init__`), which may await it

An `APIRouter` subclass overriding `add_api_route`, or an `APIRoute` subclass given as
`route_class=`, is handed every endpoint registered through it. One that registers a wrapper
instead (timing, tracing, error translation) awaits the endpoint: as a `def` the endpoint
returns a plain value there, and every request fails (`object dict can't be used in 'await'
expression`). An override that only hands the endpoint on to FastAPI's own method
(`return super().add_api_route(path, endpoint, **kwargs)`) changes nothing and keeps nothing;
any other use keeps the route, unverified where the analysis does not see the endpoint awaited.

Before:

    class TimedRouter(APIRouter):
        def add_api_route(self, path, endpoint, **kwargs):
            async def timed(*args, **kw):
                return await endpoint(*args, **kw)
            return super().add_api_route(path, timed, **kwargs)

    router = TimedRouter()

    @router.get("/books")
    async def read_books(session: SessionDep): ...

After:

    @router.get("/books")
    async def read_books(session: SessionDep): ...  # kept: TimedRouter awaits it
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM168",
    name="registered-through-wrapper",
    summary=(
        "the route is registered through project code that receives its endpoint (a router's "
        "`add_api_route`/`api_route` override, a route class's `__init__`), which may await it"
    ),
    fix=(
        "make that code accept plain functions (`if inspect.iscoroutinefunction(endpoint)`, else run it with "
        "`run_in_threadpool`), or hand the endpoint on to `super()` untouched, then rerun phase one"
    ),
    doc=__doc__,
)
