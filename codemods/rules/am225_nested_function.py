"""AM225 nested-function: a route or helper defined inside another function cannot move

A router factory (`def make_routes(model): r = APIRouter() ...`) defines its routes in
its own body: nothing outside can name them, so their callers and the closure they use
cannot be followed, and phase two leaves them on the synchronous path.

Before:

    def make_routes(model):
        r = APIRouter()

        @r.get("/")
        def list_all(session: session_dependency): ...

After:

    router = APIRouter()

    @router.get("/")
    def list_all(session: session_dependency): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM225",
    name="nested-function",
    summary="a route or helper defined inside another function cannot move: its callers cannot be followed",
    fix="define it at module level (a router factory's routes on a module-level router), or migrate it by hand",
    doc=__doc__,
)
