"""AM310 unverified-route: a route registered by call whose endpoint the analysis cannot resolve

`router.add_api_route("/x", endpoint)` (or `add_api_websocket_route`, `add_route`, a
`Route(...)` object) names an endpoint that is not a project function: a lambda, a local
variable, a method of an object the analysis cannot type, a function some wrapper built.
Its handler is never analysed, so whether it blocks the event loop is unknown: not an
all-clear. `functools.partial(f, ...)`, `self.method` inside a class's own methods,
`Class.method` and `instance.method` of a module-level instance of a project class resolve,
and so do a call of a handler factory returning one nested function on every path
(`make_list(User)`, `self._get_all()`) and an instance of a project class built in place
(`Lister("users")`, its `__call__`): all are checked like decorated routes. A route the same
router serves already, registered again (`for route in router.routes: router.add_api_route(...,
route.endpoint)` in a hand-written class-based-view decorator), is checked where it was declared.
Acknowledge one with
`# async-migrate: ignore[AM310] reason` on the registration (or on the comment line above it).

Before:

    handlers = build_handlers()
    router.add_api_route("/items", handlers["list"], methods=["GET"])

After:

    router.add_api_route("/items", list_items, methods=["GET"])
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM310",
    name="unverified-route",
    summary="a route registered by call has an endpoint the analysis cannot resolve to a project function",
    fix=(
        "register a project function or method (`partial(f, ...)`, `self.method`, `instance.method` resolve), "
        "or acknowledge with `# async-migrate: ignore[AM310] reason` on the registration"
    ),
    doc=__doc__,
)
