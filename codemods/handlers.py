"""A handler of the application (route, websocket, dependency, hook, resolver) and the
registrations that serve it: the records the index builds, and the warm run reads back
without loading the index (`codemods.warm_run`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the records only name the facts: --help and --version load none of the analysis
    from async_migrate.codemods import facts


FunctionId = tuple[str, str]  # (module name, definition key)


class HandlerKind(str, Enum):
    """What a handler is; its value is the `kind` of its entry in the JSON and the text.

    The shared contract lists `route`, `websocket` and `dependency`; the others extend it (the
    README says so, and a test holds the README and `--help` to this list). A `str` so that the
    JSON, the warm run's records (read back as plain strings) and every comparison with one
    see the value itself.
    """

    ROUTE = "route"
    WEBSOCKET = "websocket"
    DEPENDENCY = "dependency"
    # What the application runs on the event loop besides routes and dependencies: middleware
    # and exception handlers per request, lifecycle handlers (startup, shutdown, lifespan) once.
    MIDDLEWARE = "middleware"
    EXCEPTION_HANDLER = "exception-handler"
    LIFECYCLE = "lifecycle"
    # A GraphQL schema's callables (resolvers, a DataLoader's load function): graphql-core runs
    # them on the event loop, a plain `def` one too. Not a FastAPI handler: phase one never
    # converts one.
    RESOLVER = "resolver"
    # No handler: a blocking `async def` background task phase one makes a plain def, given an
    # entry of its own among phase one's decisions (`phase1/tasks.py`).
    BACKGROUND_TASK = "background-task"

    def __str__(self) -> str:
        # an f-string or str() shows the value, as the plain strings did (Enum's own is the name)
        return self.value


ROUTE_KINDS = (HandlerKind.ROUTE, HandlerKind.WEBSOCKET)
HOOK_KINDS = (HandlerKind.MIDDLEWARE, HandlerKind.EXCEPTION_HANDLER, HandlerKind.LIFECYCLE)


@dataclass(slots=True)
class Registration:
    """One way a handler is served: a route decorator, an `add_api_route(...)` call, a hook's
    registration (`@app.middleware("http")`, `on_startup=[...]`) or a resolver's."""

    kind: HandlerKind  # ROUTE or WEBSOCKET for a route; a hook's or a resolver's own kind
    methods: tuple[str, ...]
    path: str | None
    line: int
    decorator: facts.Decorator | None = None  # None for add_api_route(...) calls
    # The router's class when the tool does not know it as a router (`InferringRouter`):
    # listed because its decorators look like routes, but never converted.
    unrecognised: str | None = None
    # The router the route is registered on, as written (`api.books.router`): the decorator's
    # base, or the receiver of `router.add_api_route(...)`.
    base: str | None = None
    # `router.add_api_route(...)`'s own `dependencies=[...]` targets and `response_model=`
    # (a decorator keeps them on `decorator`).
    depends: tuple[str, ...] = ()
    response_model: str | None = None
    response_refs: tuple[str, ...] = ()
    # `self.router.add_api_route(...)` (or `@self.router.get`) in a method: `module.Class.router`
    held: str | None = None
    # The endpoint a call registers, as the index resolves it (`app.h.count` for a bound method of a
    # module-level `h`); None for a decorator.
    endpoint: str | None = None
    # `router.add_api_route(...)` on a router the enclosing function builds (`router = APIRouter()`
    # in a router factory): what built it, and the local name it is held in (a decorator keeps
    # them on `decorator`, as `router_call` and `base`).
    router_call: str | None = None
    local: str | None = None

    @property
    def made_router(self) -> tuple[str, str | None] | None:
        """(what built the router, the local name holding it) for a registration on a router its
        enclosing function builds, however it is registered; None otherwise."""
        if self.decorator is not None:
            made = self.decorator.router_call
            return (made, self.decorator.base) if made is not None else None
        return (self.router_call, self.local) if self.router_call is not None else None

    @property
    def route_depends(self) -> tuple[str, ...]:
        """The targets of the route's own `dependencies=[Depends(...)]`, however it is registered."""
        return self.decorator.depends if self.decorator is not None else self.depends

    @property
    def declared_response(self) -> tuple[str | None, tuple[str, ...]] | None:
        """`response_model=` as given (its reference, "None" for None, and every reference in
        it); None when the registration gives none."""
        if self.decorator is not None:
            found = self.decorator
            if found.response_model is None and not found.response_refs:
                return None
            return found.response_model, found.response_refs
        if self.response_model is None and not self.response_refs:
            return None
        return self.response_model, self.response_refs


@dataclass(slots=True)
class Handler:
    """A function the application runs per request or on its event loop, with every registration
    serving it (none for a dependency); `id` is its key across the index."""

    module: facts.Module
    function: facts.Function
    kind: HandlerKind
    registrations: list[Registration] = field(default_factory=list)
    # Read about a million times by the analysis of a large project: kept, not built per read
    # (a handler's module and function are never replaced).
    id: FunctionId = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.id = (self.module.name, self.function.key)

    @property
    def methods(self) -> list[str]:
        seen: list[str] = []
        for registration in self.registrations:
            seen.extend(m for m in registration.methods if m not in seen)
        return seen

    @property
    def path(self) -> str | None:
        return self.registrations[0].path if self.registrations else None

    def response_refs(self) -> tuple[list[str], int]:
        """What FastAPI validates the handler's result into, as references: every registration's
        `response_model=` (`list[X]` gives its refs), else the return annotation; and the line
        naming them (a decorator's, else the def's). `response_model=None` names nothing."""
        refs: list[str] = []
        line = self.function.line
        declared = [(r, found) for r in self.registrations if (found := r.declared_response) is not None]
        if not declared:
            return [*self.function.returns], line
        for registration, (model, model_refs) in declared:
            if model != "None":
                refs.extend(model_refs)
                if registration.decorator is not None:  # an `add_api_route` may be in another module
                    line = registration.decorator.line or line
        return refs, line

    def served_line(self, named: int) -> int:
        """Where the handler hands FastAPI what its response model serialises, for the reads made
        then: its first `return name` when every return of its own body is one (`return user`),
        else `named`, the line naming the model (`response_refs`)."""
        returns = self.function.name_returns
        if returns and len(returns) == len(self.function.returned):
            return returns[0][0]
        return named
