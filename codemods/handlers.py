"""A handler of the application (route, websocket, dependency, hook, resolver) and the
registrations that serve it: the records the index builds, and the warm run reads back
without loading the index (`codemods.warm_run`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from async_migrate.codemods import facts

FunctionId = tuple[str, str]  # (module name, definition key)


@dataclass(slots=True)
class Registration:
    kind: str  # route or websocket
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
    module: facts.Module
    function: facts.Function
    kind: str  # route, websocket, dependency, resolver, or a hook: middleware, exception-handler, lifecycle
    registrations: list[Registration] = field(default_factory=list)

    @property
    def id(self) -> FunctionId:
        return (self.module.name, self.function.key)

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
