"""The project code a route is registered through that receives its endpoint: an `APIRouter`
(or `FastAPI`) subclass overriding `add_api_route`/`api_route` on the router it is registered
on or any router including it, and the `route_class=` of that router, a project `APIRoute`
subclass whose `__init__` takes the endpoint or whose methods read `self.endpoint`.

FastAPI runs a plain `def` endpoint in the threadpool only where it calls the endpoint itself; a
wrapper such code registers instead (`async def timed(*a, **k): return await endpoint(*a, **k)`)
awaits what a `def` returns, and every request fails. An override that only hands the endpoint
to the base class's own method (`facts.Function.hands_to_super`) is FastAPI's behaviour again;
anything else keeps the route (unverified where the analysis does not see the endpoint awaited).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from async_migrate.codemods.project import FunctionId, Handler, HandlerKind, Project
from async_migrate.codemods.vocabulary.fastapi import ROUTE_CLASSES, ROUTER_OVERRIDES

if TYPE_CHECKING:
    from async_migrate.codemods.classes import Classes


@dataclass(frozen=True, slots=True)
class EndpointWrapper:
    """A project method receiving the endpoint of a route registered through it."""

    method: str  # `routing.TimedRouter.add_api_route`
    where: str  # path:line of its def
    how: str  # what it does with the endpoint, as said in the reason


def endpoint_wrappers(project: Project, handler: Handler) -> list[EndpointWrapper]:
    """The project methods each registration of a route hands its endpoint to that do more with
    it than pass it to FastAPI's own, nearest first, each once."""
    if handler.kind not in (HandlerKind.ROUTE, HandlerKind.WEBSOCKET):
        return []
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.routes import Routes

    classes = project_classes(project)
    # one index of the includes per project, shared with phase two's reading of them
    routes = cast("Routes | None", project.derived.get("phase2.routes"))
    if routes is None:
        routes = project.derived["phase2.routes"] = Routes(project)
    found: dict[FunctionId, EndpointWrapper] = {}
    for registration in handler.registrations:
        if registration.kind not in (HandlerKind.ROUTE, HandlerKind.WEBSOCKET):
            continue
        constructors = [_constructor(project, router) for router in routes.above(registration)]
        decorator = registration.decorator
        if decorator is not None and decorator.router_call is not None:
            constructors.insert(0, (decorator.router_call, ()))  # a router the enclosing function builds
        for position, (constructor, keywords) in enumerate(constructors):
            cls = classes.resolve(constructor) if constructor else None
            if cls is not None:
                # each class's own: an override calling `super()` runs its base's too
                for ancestor in classes.mro(cls):
                    for name in sorted(ROUTER_OVERRIDES):
                        fid = classes.methods.get(ancestor, {}).get(name)
                        if fid is not None:
                            _add(project, found, fid)
            if position == 0:  # a router's route class serves the routes registered on it, included or not
                for route_class in _route_classes(project, classes, cls, keywords):
                    for fid in _route_class_methods(project, classes, route_class):
                        _add(project, found, fid)
    return list(found.values())


def _constructor(project: Project, router: str) -> tuple[str | None, tuple[tuple[str | None, str | None], ...]]:
    """What builds a module-level router (`routing.TimedRouter`) and its keywords' references."""
    target = project.resolve(router)
    value = target.value if target is not None and target.kind == "value" else None
    if value is None or value.kind != "call":
        return None, ()
    return value.ref, tuple((arg.keyword, arg.ref) for arg in value.args)


def _route_classes(
    project: Project, classes: Classes, cls: str | None, keywords: tuple[tuple[str | None, str | None], ...]
) -> list[str]:
    """The project route classes a router builds its routes with: `route_class=` of its
    construction, or a project route class a project router class's `__init__` names
    (`super().__init__(route_class=X)`, `kwargs.setdefault("route_class", X)`)."""
    refs = [ref for keyword, ref in keywords if keyword == "route_class" and ref]
    if cls is not None:
        for ancestor in classes.mro(cls):
            fid = classes.methods.get(ancestor, {}).get("__init__")
            for call in project.functions[fid][1].calls if fid is not None else ():
                refs.extend(arg.ref for arg in call.args if arg.ref)
    found = []
    for ref in refs:
        route_class = classes.resolve(ref)
        if route_class is not None and route_class not in found:
            found.append(route_class)
    return found


def _route_class_methods(project: Project, classes: Classes, route_class: str) -> list[FunctionId]:
    """A project route class's `__init__` (which takes the endpoint) and every method of it
    or its project bases reading `self.endpoint`."""
    if not any(project.canonical(base) in ROUTE_CLASSES for a in classes.mro(route_class)
               if a in classes.by_ref for base in classes.by_ref[a][1].bases):
        return []
    found = list(classes.method(route_class, "__init__")[0])
    for ancestor in classes.mro(route_class):
        for fid in classes.methods.get(ancestor, {}).values():
            if project.functions[fid][1].endpoint_reads and fid not in found:
                found.append(fid)
    return found


def _add(project: Project, found: dict[FunctionId, EndpointWrapper], fid: FunctionId) -> None:
    module, function = project.functions[fid]
    if fid in found:
        return
    if function.hands_to_super and not function.endpoint_reads:
        return
    found[fid] = EndpointWrapper(f"{module.name}.{function.qualname}", f"{module.path}:{function.line}", _how(project, fid))


def _how(project: Project, fid: FunctionId) -> str:
    """`awaits it at routing.py:14`, where the method or a function nested in it awaits the
    endpoint (its parameter, `self.endpoint`); else what the analysis could not see."""
    module, function = project.functions[fid]
    params = [p.name for p in function.params]
    first = params[0] if params else None
    nested = f"{function.qualname}.<locals>."
    scopes = [function, *(f for f in module.functions if f.qualname.startswith(nested))]
    # the endpoint: the method's parameter, or that of the decorator an `api_route` override returns
    names = {"endpoint" if "endpoint" in params else params[2]} if len(params) > 2 else set()
    names.update(f.params[0].name for f in scopes[1:] if f.params and not f.params[0].variadic)
    held = {*names, *(f"${name}" for name in names)}
    for scope in scopes:
        for call in scope.calls:
            called = call.func or call.callee or ""
            if call.awaited and (
                called in held or (first is not None and called in (f"${first}.endpoint", f"${first}.dependant.call"))
            ):
                return f"awaits it at {module.path}:{call.line}"
    if function.endpoint_reads:
        return f"reads `self.endpoint` at {module.path}:{function.endpoint_reads[0]}, and the analysis cannot see what it does with it (unverified)"
    return "does more with it than hand it to FastAPI's own, and the analysis cannot see what (unverified)"
