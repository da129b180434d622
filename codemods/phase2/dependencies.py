"""A route's dependency tree, and the dependencies in it that share the request's Session.

FastAPI caches a dependency per request: `Depends(get_db_session)` in a route and
in its `get_current_user` dependency yield the same Session. When phase two moves
only the route to the async dependency, the request holds two Sessions: objects
the dependency loaded belong to the other one ("already attached", or writes
committed on a Session that never saw them). Every dependency in the tree that
receives a synchronous Session is reported here, with the chain that reaches it.

The tree is read from the route's parameters (`Depends(f)` defaults, inline
`Annotated[..., Depends(f)]`, `Annotated` aliases), its decorator's
`dependencies=[...]`, its router's `APIRouter(dependencies=[...])`, and, for
`Depends(SomeClass)` and a `@cbv` view's routes, the class's `__init__` parameters.

Over 500 lines: one reading of the dependency tree (parameters, aliases, decorators,
routers, includes, class dependencies), which the closure, the stack analysis and the
self-check all walk; split apart, each piece would resolve `Depends(...)` again its own way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import dispatch
from async_migrate.codemods.phase2 import depends_values, tx_dependency
from async_migrate.codemods.project import FunctionId, Handler, Project
from async_migrate.codemods.sources import is_test_path
from async_migrate.codemods.vocabulary.fastapi import APPLICATION_TYPES, INCLUDE_ROUTER

if TYPE_CHECKING:
    from async_migrate.codemods.routes import Routes


@dataclass(frozen=True, slots=True)
class SharedSession:
    """A dependency of a route that receives a synchronous Session of its own parameter."""

    dependency: FunctionId
    chain: tuple[FunctionId, ...]  # the route's direct dependency first, this dependency last
    param: str
    router: str | None = None  # reached through this router's `APIRouter(dependencies=[...])`


def wrapped_session_params(project: Project, handler: Handler) -> list[tuple[facts.Param, str]]:
    """The route's Session parameters injected by a dependency that is not a session provider
    (one that opens the Session: `project.session_dependencies`) but wraps one, as
    `def tx(db = Depends(get_db)): yield db; db.commit()` does: (parameter, dependency).

    Phase two puts the async session dependency in the parameter's place, so what the wrapper
    does around the Session (a commit, a rollback, per-request set-up) would be lost.
    """
    _, function = project.functions[handler.id]
    found = []
    for param in function.params:
        if project.declared_session(param) is None:
            continue
        ref = project.param_dependency(param)
        if ref is not None and (
            not project.is_session_dependency(ref) or dependency_function(project, ref) in tx_dependency.wrappers(project)
        ):
            found.append((param, ref))
    return found


def dependency_function(project: Project, ref: str | None) -> FunctionId | None:
    """The project function a `Depends(ref)` calls: the function, or a class's `__init__`."""
    if ref is None:
        return None
    for candidate in (ref, f"{ref}.__init__"):
        found = project.function(candidate)
        if found is not None:
            return (found[0].name, found[1].key)
    # `Depends(UserRepo)` where UserRepo inherits its `__init__` from a project base.
    classes = project.flow.classes
    cls = classes.resolve(ref)
    if cls is not None:
        for ancestor in classes.mro(cls):
            init = classes.methods.get(ancestor, {}).get("__init__")
            if init is not None:
                return init
    # `Depends(charged)`, `charged = CurrentUser(cost=1)`: FastAPI calls the instance's `__call__`.
    callables = project.dependency_callables(ref)
    return callables[0] if len(callables) == 1 else None


def dependency_tree(project: Project, handler: Handler) -> Iterator[FunctionId]:
    """The project functions FastAPI calls for a route's dependencies, each once, nearest first:
    its parameters', its decorator's and routers' `dependencies=[...]`, and theirs below."""
    queue = [r for r in (project.param_dependency(p) for p in project.functions[handler.id][1].params) if r]
    queue += route_dependencies(project, handler)
    seen: set[FunctionId] = set()
    while queue:
        fid = dependency_function(project, queue.pop(0))
        if fid is None or fid in seen:
            continue
        seen.add(fid)
        yield fid
        queue += [r for r in (project.param_dependency(p) for p in project.functions[fid][1].params) if r]


def route_dependencies(project: Project, handler: Handler, router: bool = True) -> list[str]:
    """References of the dependencies FastAPI calls for a route, besides its parameters':
    its decorator's `dependencies=[...]`, and (with `router`) its router's."""
    refs: list[str] = []
    for registration in handler.registrations:
        refs.extend(registration.route_depends)
    return refs + router_dependencies(project, handler) if router else refs


def router_dependencies(project: Project, handler: Handler) -> list[str]:
    """The dependencies of the routers a route is registered on (`APIRouter(dependencies=[...])`),
    through a decorator or `router.add_api_route(...)`."""
    refs: list[str] = []
    for router in handler_routers(project, handler):
        refs.extend(router_dependency_refs(project, router))
    return refs


def handler_routers(project: Project, handler: Handler) -> list[str]:
    """The routers a route is served under that list dependencies of their own, by the
    reference of the value that builds them (`api.items.router`): the one it is registered
    on, and every router (or application) including that one at any depth, `api =
    APIRouter(dependencies=[...])` with `api.include_router(items.router)`: FastAPI runs their
    lists for the route too."""
    found: list[str] = []
    routes = _routes(project)
    for registration in handler.registrations:
        for router in routes.above(registration):
            target = project.resolve(router)
            if target is None or target.kind != "value" or target.value is None or target.module is None:
                continue
            if any(arg.keyword == "dependencies" for arg in target.value.args) and target.ref not in found:
                found.append(target.ref)
    return found


def routes_on(project: Project, router: str) -> list[Handler]:
    """Every route and websocket of the project served under `router` (a `handler_routers`
    reference), and every one registered on a router the index cannot place (`self.router`,
    `make_router().get`) that may be: its list runs for them too."""
    index = cast("dict[str, list[Handler]] | None", project.derived.get("phase2.routes_by_router"))
    if index is None:
        index = {}
        for handler in project.handlers:
            if handler.kind in ("route", "websocket"):
                for ref in handler_routers(project, handler):
                    index.setdefault(ref, []).append(handler)
        project.derived["phase2.routes_by_router"] = index
    served = cast("dict[str, list[Handler]]", project.derived.setdefault("phase2.routes_served", {}))
    if router not in served:
        routes = _routes(project)
        placed = index.get(router, [])
        served[router] = [*placed, *(
            handler for handler in project.handlers
            if handler.kind in ("route", "websocket") and handler not in placed
            and any(not routes.above(r) and routes.may_serve_under(r, router) for r in handler.registrations)
        )]
    return served[router]


def router_dependency_refs(project: Project, router: str) -> list[str]:
    """`APIRouter(dependencies=[Depends(f), ...])`: the targets named in that argument."""
    target = project.resolve(router)
    if target is None or target.kind != "value" or target.value is None or target.module is None:
        return []
    text = " ".join(arg.text for arg in target.value.args if arg.keyword == "dependencies")
    if not text:
        return []
    # The facts keep the argument as written; the module's Depends() targets it names are its own.
    found = [ref for ref in target.module.depends if named_in(ref, text)]
    found.extend(ref for ref in router_values(project, router) if ref not in found)
    return found


def router_values(project: Project, router: str) -> dict[str, str]:
    """The module-level `Depends(...)` values an `APIRouter(dependencies=[...])` names, written in
    its module or imported (`Audit = Depends(AuditTrail("report"))`, `dependencies=[Audit]`):
    {the value's target: the name the list gives it}. FastAPI runs each target for the router's
    routes, as it does a `Depends(...)` written in the list."""
    target = project.resolve(router)
    if target is None or target.kind != "value" or target.value is None or target.module is None:
        return {}
    text = " ".join(arg.text for arg in target.value.args if arg.keyword == "dependencies")
    found: dict[str, str] = {}
    for name in dict.fromkeys(re.findall(r"(?<![\w.])[A-Za-z_][\w.]*", text)):
        named = project.resolve(f"{target.module.name}.{name}")
        value = named.value if named is not None and named.kind == "value" else None
        if value is not None and value.kind == "depends" and value.ref:
            found.setdefault(value.ref, name)
    return found


def named_in(ref: str, text: str) -> bool:
    """Whether a `Depends(...)` target of a module is named in `text`, an argument as written: by
    its last name, `get_user` for `auth.get_user`, and for an instance built in place, whose
    reference ends in the call (`security.RoleChecker()` for `Depends(RoleChecker(["admin"]))`),
    by the class's name. As a whole name: `get_user` is not named in `Depends(get_user_async)`."""
    name = ref.rsplit(".", 1)[-1].removesuffix("()")
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def shared_session_dependencies(project: Project, handler: Handler) -> list[SharedSession]:
    """Dependencies in a route's tree that receive a synchronous Session, nearest first.

    Empty when the route itself takes no Session from a dependency (then no
    dependency can share it).
    """
    _, function = project.functions[handler.id]
    if not any(project.declared_session(param) is not None for param in function.params):
        return []
    return session_dependencies_in_tree(project, handler)


def session_dependencies_in_tree(project: Project, handler: Handler, copies: bool = False) -> list[SharedSession]:
    """Every dependency below a route that receives a synchronous Session, nearest first; with
    `copies`, through a copy of a dependency function too (`Project.copied_function`)."""
    _, function = project.functions[handler.id]
    start = [p for p in function.params if project.declared_session(p) is None]
    queue: list[tuple[str, tuple[FunctionId, ...], str | None]] = [
        (ref, (), None) for ref in (*filter(None, (project.param_dependency(p) for p in start)),
                                    *route_dependencies(project, handler, router=False))
    ]
    queue += [(ref, (), router) for router in handler_routers(project, handler)
              for ref in router_dependency_refs(project, router)]
    return _in_tree(project, queue, copies)


def included_session_dependencies(project: Project, handler: Handler, copies: bool = False) -> list[SharedSession]:
    """The dependencies receiving a synchronous Session that FastAPI runs for a route because an
    `include_router(router, dependencies=[Depends(f)])` includes a router it is served under (its
    own or one above it), nearest first. Phase two does not move these (it blocks the route:
    `guarded_includes`); a route already on an AsyncSession holds two Sessions with them."""
    routes = _routes(project)
    above = {router for registration in handler.registrations for router in routes.above(registration)}
    queue: list[tuple[str, tuple[FunctionId, ...], str | None]] = [
        (ref, (), None) for ref in included_dependencies(project, above)
    ]
    return _in_tree(project, queue, copies)


def included_dependencies(project: Project, routers: AbstractSet[str]) -> list[str]:
    """The `dependencies=[...]` targets of every `include_router(...)` including one of
    `routers` (module-level routers' references), in the modules' and the source's order."""
    # Not "phase2.guarded_includes": `guarded_includes` keeps its own table under that key, and
    # whichever ran first would hand the other a table of the wrong shape.
    by_router = cast(
        "dict[str | None, list[tuple[int, tuple[str, ...]]]] | None", project.derived.get("phase2.included_by_router")
    )
    if by_router is None:
        # Read once a project: every route, in every subsystem the scan previews, asks.
        routes = _routes(project)
        by_router = {}
        place = 0
        for module in project.modules.values():
            for added in module.registrations:
                if added.attr == INCLUDE_ROUTER and added.depends:
                    by_router.setdefault(routes.router_ref(added.endpoint), []).append((place, tuple(added.depends)))
                    place += 1
        project.derived["phase2.included_by_router"] = by_router
    found = sorted(entry for router in routers for entry in by_router.get(router, ()))
    return [ref for _place, depends in found for ref in depends]


# How a guarded dependency list is written, for the reason naming it.
INCLUDE_CALL = "include_router(..., dependencies=[...])"
APPLICATION_CALL = "FastAPI(dependencies=[...])"


@dataclass(frozen=True, slots=True)
class GuardedInclude:
    """`include_router(router, dependencies=[Depends(f)])` of routers the index resolves (written
    once, or in a loop over a display the index reads, each element a router): FastAPI runs `f` for
    every route served under them through this include."""

    module: str  # the module it is written in, by name
    path: str  # and by path
    line: int
    routers: tuple[str, ...]  # the included routers' references
    refs: tuple[str, ...]  # the targets of its `Depends(...)`, as written

    def shown(self) -> str:
        """The routers the list applies to, as a reason names them."""
        return ", ".join(f"`{router}`" for router in self.routers)


def guarded_include_lists(project: Project) -> list[GuardedInclude]:
    """Every `include_router(...)` with a `dependencies=[...]` of its own whose routers the index
    resolves (each element of a loop's display: the one list serves them all, so it moves for
    all of them or none), in the modules' and the source's order. An include whose routers cannot
    all be read (a loop over a display other code changes or the tool cannot read) is none."""
    found = cast("list[GuardedInclude] | None", project.derived.get("phase2.guarded_include_lists"))
    if found is None:
        found = []
        for module in project.modules.values():
            by_line: dict[int, list[facts.Registration]] = {}
            for added in module.registrations:
                if added.attr == INCLUDE_ROUTER and added.depends:
                    by_line.setdefault(added.line, []).append(added)
            for line, group in by_line.items():
                routers = _include_routers(project, group)
                if routers is not None:
                    refs = tuple(dict.fromkeys(ref for added in group for ref in added.depends))
                    found.append(GuardedInclude(module.name, module.path, line, routers, refs))
        project.derived["phase2.guarded_include_lists"] = found
    return found


def _include_routers(project: Project, group: list[facts.Registration]) -> tuple[str, ...] | None:
    """The routers the includes written at one line add (a loop's, one registration per element
    of a display in the module, or one over another module's display), or None when one of them
    cannot be read or the display is changed elsewhere (it may hold other routers)."""
    routes = _routes(project)
    found: list[str] = []
    for added in group:
        if project.changed_source(added) or dispatch.UNREAD in added.sources:
            return None
        if added.looped is not None:
            included = routes.looped(added.looped)
            if included is None:
                return None
            found.extend(router for router, _prefix in included)
            continue
        router = routes.router_ref(added.endpoint)
        if router is None:
            return None
        found.append(router)
    return tuple(dict.fromkeys(found)) or None


def include_session_dependencies(project: Project, include: GuardedInclude) -> list[SharedSession]:
    """The dependencies of an include's list, and those below them, that receive a synchronous
    Session, nearest first: the request's Session is theirs too."""
    kept = cast(
        "dict[GuardedInclude, list[SharedSession]]", project.derived.setdefault("phase2.include_sessions", {})
    )
    found = kept.get(include)
    if found is None:
        found = kept[include] = _in_tree(project, [(ref, (), None) for ref in include.refs])
    return found


def receives_session_below(project: Project, ref: str) -> bool:
    """Whether the dependency `Depends(ref)` calls, or one below it, receives a synchronous Session."""
    return bool(_in_tree(project, [(ref, (), None)]))


def view_session_dependencies(project: Project, init: FunctionId) -> list[SharedSession]:
    """The dependencies below the `__init__` of a class FastAPI builds for its routes (a
    fastapi-utils `@cbv` view) that receive a synchronous Session, nearest first: its other
    parameters' trees (`user: User = Depends(get_current_user)`), its own Session parameter left out."""
    _, function = project.functions[init]
    start = [p for p in function.params if project.declared_session(p) is None]
    return _in_tree(project, [(ref, (), None) for ref in filter(None, (project.param_dependency(p) for p in start))])


def _in_tree(
    project: Project, queue: list[tuple[str, tuple[FunctionId, ...], str | None]], copies: bool = False
) -> list[SharedSession]:
    found: list[SharedSession] = []
    # Each dependency once per way in: one the route's own parameters reach (`CurrentUser`) that
    # its router's `dependencies=[...]` reaches too is found again under that router, whose list
    # phase two then points at the twin; else the router would keep the synchronous one. And once
    # per chain: `get_repo` the route takes and `valid_item(repo=Depends(get_repo))` takes too is
    # reached through `valid_item` as well, which must then move with the route.
    seen: set[tuple[FunctionId, tuple[FunctionId, ...], str | None]] = set()
    while queue:
        ref, chain, router = queue.pop(0)
        fid = dependency_function(project, ref)
        if fid is None and copies:
            copied = project.copied_function(ref)
            fid = dependency_function(project, copied) if copied is not None else None
            ref = copied or ref
        # A transaction dependency in the tree (`dependencies=[Depends(get_tx_db)]`) commits the
        # route's Session: it shares it like any dependency receiving it.
        if fid is None or fid in chain or (fid, chain, router) in seen or (
            project.is_session_dependency(ref) and fid not in tx_dependency.wrappers(project)
        ):
            continue
        seen.add((fid, chain, router))
        path = (*chain, fid)
        _, dependency = project.functions[fid]
        for param in dependency.params:
            if project.declared_session(param) is not None:
                found.append(SharedSession(fid, path, param.name, router))
                break
        for param in dependency.params:
            target = project.param_dependency(param)
            if target is not None and project.declared_session(param) is None:
                queue.append((target, path, router))
    return found


def twin_problem(project: Project, shared: SharedSession) -> str | None:
    """Why the dependencies of a chain cannot get async twins for the migrated routes (None: they can)."""
    for fid in shared.chain:
        _, function = project.functions[fid]
        if "." not in function.qualname or class_dependency(project, fid) or injected_class(project, fid):
            continue
        if callable_dependency(project, fid):
            callers = instance_callers(project, fid)
            if not callers:
                continue  # moves in place with the routes (AM267), or blocks them naming where it is shared (AM268)
            return (
                f"{_name(project, fid)} is also called directly ({', '.join(callers[:4])}): as `async def` "
                "it would hand them a coroutine"
            )
        built = _built_from_session(project, fid) if function.name == "__init__" else []
        if built:
            cls = _name(project, fid).removesuffix(".__init__")
            return (
                f"{cls} builds {', '.join(built)} from the Session in its `__init__` without keeping the "
                f"Session itself: phase two moves a class FastAPI builds (`Depends({cls.rsplit('.', 1)[-1]})`), "
                "with the classes it builds from the Session, when its `__init__` also keeps it "
                "(`self.db = db`)"
            )
        if _bound_method_twins(project, fid):
            continue
        if ".<locals>." in function.qualname:
            # `Depends(action_logging())`: the factory's call builds the function FastAPI runs
            factory = function.qualname.split(".<locals>.")[0]
            return (
                f"{_name(project, fid)} is a function defined inside `{factory}()`, a factory whose call "
                "builds the dependency, which phase two gives no async twin: define it at module level "
                "(taking the factory's arguments as parameters or a class's attributes), or write its async "
                "form on the async session dependency by hand and depend on that, then run phase two again"
            )
        return f"{_name(project, fid)} is a method dependency"
    return None


def _bound_method_twins(project: Project, fid: FunctionId) -> bool:
    """`Depends(container.get_orders_service)` on a module-level instance of a class that keeps no
    Session (a hand-written container, a settings object): FastAPI calls the bound method, so an
    async twin method beside it in the same class, named in the migrated routes' `Depends(...)`,
    runs with the same instance. Not a method a subclass overrides (which one the instance runs
    is not followed here), nor one of a class holding the Session (that class moves as a whole),
    nor a special or decorated method (a decorator may not pass a coroutine function through)."""
    from async_migrate.codemods.phase2 import holders

    classes = project.flow.classes
    _, function = project.functions[fid]
    owner = classes.owner(fid)
    if owner is None or function.name.startswith("__") or holders.holder_of(project, fid) is not None:
        return False
    if any((d.callee or "").rsplit(".", 1)[-1] not in ("staticmethod", "classmethod") for d in function.decorators):
        return False
    return not any(function.name in classes.methods.get(sub, {}) for sub in classes.subclasses(owner))


def _built_from_session(project: Project, fid: FunctionId) -> list[str]:
    """The project classes an `__init__` builds from its Session parameter (`self.repo =
    ItemRepository(db)`), by name."""
    _, function = project.functions[fid]
    sessions = {p.name for p in function.params if project.declared_session(p) is not None}
    built = {
        cls.rsplit(".", 1)[-1]
        for call in function.calls if any(a.name in sessions for a in call.args)
        for cls in [project.flow.classes.resolve(call.callee) if call.callee else None] if cls is not None
    }
    return sorted(built)


def callable_dependency(project: Project, fid: FunctionId) -> bool:
    """`Depends(limiter)` for `limiter = RateLimiter(...)`, or `Depends(RoleChecker("admin"))`: the
    `__call__` of a project class, which FastAPI runs for the instance (and awaits when it is
    `async def`)."""
    _, function = project.functions[fid]
    return function.name == "__call__" and project.flow.classes.owner(fid) is not None


def instance_callers(project: Project, fid: FunctionId) -> list[str]:
    """Code calling an instance whose `__call__` is `fid` itself (`charged(db)`, `checks.charged(db)`,
    `self.charged(db)` for a module-level `charged = CurrentUser(...)`, or one built in place,
    `CurrentUser(cost=1)(db)`), in a function (`module.qualname`) or in code outside any (a script,
    an `if __name__ == "__main__":` block: `module-level code at path:line`). Conservative: a call spelled with
    the name of a module-level instance counts, and so does one of an instance of a subclass."""
    memo = cast("dict[FunctionId, list[str]]", project.derived.setdefault("phase2.instance_callers", {}))
    if fid in memo:
        return memo[fid]
    owner = project.flow.classes.owner(fid)
    names = {
        name for module in project.modules.values() for name, value in module.values.items()
        if value.kind == "call" and project.flow.classes.resolve(value.ref) == owner
    }
    found = {_name(project, e.caller) for e in project.all_calls_to[fid]}
    for module, function in project.functions.values():
        for call in function.calls:
            spelled = [text.rsplit(".", 1)[-1] for text in (call.callee, call.func) if text]
            if (
                (call.callee is not None and project.function(call.callee) is None
                 and fid in project.dependency_callables(call.callee))
                or any(name in names for name in spelled)
                or _built_in_place(project, call.func, owner)
            ):
                found.add(f"{module.name}.{function.qualname}")
    # a script's statements, an `if __name__ == "__main__":` block (`checker(1, db, user)`)
    from async_migrate.codemods.phase2.closure import module_level_callers

    found.update(f"module-level code at {where}" for where in module_level_callers(project).get(fid, ()))
    memo[fid] = sorted(found)
    return memo[fid]


def _built_in_place(project: Project, func: str | None, owner: str | None) -> bool:
    """`Permission("admin")(db)`: the called expression is the result of building a project class
    whose `__call__` is the owner's (the facts spell it `api.items.Permission()`)."""
    if owner is None or func is None or not func.endswith("()"):
        return False
    built = project.flow.classes.resolve(func[:-2])
    return built is not None and owner in project.flow.classes.mro(built)


def callable_dependency_users(project: Project, fid: FunctionId) -> list[tuple[FunctionId, str]]:
    """Where FastAPI runs a callable instance's `__call__`: every function injecting an instance of
    the class (a parameter, a route decorator's `dependencies=[...]`), and every route served by a
    router listing one in `APIRouter(dependencies=[...])`: (the function, `path:line`)."""
    memo = cast("dict[FunctionId, list[tuple[FunctionId, str]]]", project.derived.setdefault("phase2.callable_users", {}))
    if fid in memo:
        return memo[fid]
    found = memo[fid] = injection_sites(project, {fid})
    for handler in project.handlers:
        if handler.kind not in ("route", "websocket"):
            continue
        if any(dependency_function(project, ref) == fid for ref in router_dependencies(project, handler)):
            found.append((handler.id, f"{handler.module.path}:{handler.function.line}"))
    return found


def injected_class(project: Project, fid: FunctionId) -> bool:
    """`Depends(Checker)` where `Checker.__init__` receives, through `Depends(...)`, a dependency
    sharing the Session but keeps no Session itself: its `__init__` moves in place, its
    defaults pointing at the async twins, when only migrated routes inject the class."""
    from async_migrate.codemods.phase2 import holders

    _, function = project.functions[fid]
    return (
        function.name == "__init__"
        and project.flow.classes.owner(fid) is not None
        and holders.holder_of(project, fid) is None
        and not project.session_names(fid)
        and not project.own_work(fid)
    )


def injection_sites(project: Project, inits: set[FunctionId]) -> list[tuple[FunctionId, str]]:
    """Places that inject a class whose `__init__` is one of `inits` (`Depends(Repo)`,
    `Annotated[Repo, Depends()]`, an alias of either, a decorator's `dependencies=[...]`):
    (the function, `path:line`)."""
    found: list[tuple[FunctionId, str]] = []
    for fid, (module, function) in project.functions.items():
        for param in function.params:
            if dependency_function(project, project.param_dependency(param)) in inits:
                found.append((fid, f"{module.path}:{param.line}"))
        for decorator in function.decorators:
            if any(dependency_function(project, ref) in inits for ref in decorator.depends):
                found.append((fid, f"{module.path}:{decorator.line}"))
    for endpoint, place, refs in registered_depends(project):
        if any(dependency_function(project, ref) in inits for ref in refs):
            found.append((endpoint or UNRESOLVED_ENDPOINT, place))
    return found


# The user of a dependency listed by an `add_api_route(...)` whose endpoint the index cannot
# resolve: no function, so never one that migrates.
UNRESOLVED_ENDPOINT: FunctionId = ("", "")


def registered_depends(project: Project) -> list[tuple[FunctionId | None, str, tuple[str, ...]]]:
    """`router.add_api_route(path, endpoint, dependencies=[Depends(f), ...])`: (the endpoint's
    function, None when the index cannot resolve it; `path:line`; the `Depends` targets)."""
    cached = project.derived.get("phase2.registered_depends")
    if cached is not None:
        return cached  # type: ignore[return-value]
    found: list[tuple[FunctionId | None, str, tuple[str, ...]]] = []
    for module in project.modules.values():
        for added in module.registrations:
            if added.attr == INCLUDE_ROUTER or not added.depends:
                continue
            endpoint = project.endpoint(added.endpoint)
            fid = (endpoint[0].name, endpoint[1].key) if endpoint is not None else None
            found.append((fid, f"{module.path}:{added.line}", added.depends))
    project.derived["phase2.registered_depends"] = found
    return found


def class_dependency(project: Project, fid: FunctionId) -> bool:
    """`Depends(ItemService)` where `ItemService.__init__` stores the Session it receives
    (`self.db = db`): the class moves with the routes injecting it (in place, or as a
    parallel async class), its `__init__` getting the async session dependency."""
    from async_migrate.codemods.phase2 import holders

    holder = holders.holder_of(project, fid)
    return holder is not None and holder.init == fid


def describe(project: Project, shared: SharedSession) -> str:
    names = [_name(project, fid) for fid in shared.chain]
    via = f" (through {' -> '.join(names[:-1])})" if len(names) > 1 else ""
    return (
        f"dependency {names[-1]}{via} receives the synchronous Session too (parameter `{shared.param}`); "
        "FastAPI caches a dependency per request, so the route and its dependency share one Session; "
        "moving only the route to the async session dependency gives the request two Sessions: objects the "
        "dependency loads would not be saved by the route's commit. Move the dependency with the route (an async twin), or keep the route as it is"
    )


def value_unread(project: Project, fid: FunctionId) -> bool:
    """Nothing reads what a dependency returns: FastAPI alone calls it, and every parameter it
    fills is never used (a route that needs it only to run: `user: User = Depends(get_user)`
    unread); a route decorator's or a router's `dependencies=[...]` drops the value. Kept per
    project: it reads every function, and scan asks it for each subsystem's twinned dependencies."""
    kept = cast("dict[FunctionId, bool]", project.derived.setdefault("phase2.value_unread", {}))
    found = kept.get(fid)
    if found is None:
        found = kept[fid] = _value_unread(project, fid)
    return found


def _value_unread(project: Project, fid: FunctionId) -> bool:
    def runs(ref: str | None) -> bool:
        found = project.function(ref) if ref else None
        return found is not None and (found[0].name, found[1].key) == fid

    _, function = project.functions[fid]
    if "." in function.qualname or project.all_calls_to[fid]:
        return False
    # Named as a value where something other than FastAPI may call it (`Depends(f)` is not).
    if any(runs(ref) for module in project.modules.values() for ref, _, _ in module.escapes):
        return False
    for _, other in project.functions.values():
        if any(runs(arg.ref) for call in other.calls for arg in call.args):
            return False
        for param in other.params:
            if other.name_uses.get(param.name) and dependency_function(project, project.param_dependency(param)) == fid:
                return False
    return True


def describe_sync(project: Project, shared: SharedSession) -> str:
    """`dependency m.f (through m.g) receives the synchronous Session (parameter `db`)`."""
    names = [_name(project, fid) for fid in shared.chain]
    via = f" (through {' -> '.join(names[:-1])})" if len(names) > 1 else ""
    return f"dependency {names[-1]}{via} receives the synchronous Session (parameter `{shared.param}`)"


def _name(project: Project, fid: FunctionId) -> str:
    module, function = project.functions[fid]
    return f"{module.name}.{function.qualname}"


def unattributed_session_dependencies(project: Project) -> list[FunctionId]:
    """Dependencies receiving a synchronous Session that are attached where the tool cannot tell
    which routes they apply to: `FastAPI(dependencies=[...])`, `include_router(..., dependencies=[...])`,
    `Depends(f)` built inside a function. Any such dependency may share a migrated route's Session."""
    cached = project.derived.get("phase2.unattributed_dependencies")
    if cached is not None:
        return cached  # type: ignore[return-value]
    # Every `Depends(...)` of a module is in `module.depends`; the ones in signatures, route
    # decorators, aliases and APIRouter(...) are accounted for, occurrence by occurrence.
    # (reference, module path, whether a `Depends(...)` other than a module-level value's is loose,
    # the values used where the tool cannot follow them)
    loose: list[tuple[str, str, bool, list[tuple[str, str, list[str]]]]] = []
    # `include_router(admin.router, dependencies=[Depends(f)])` on a router the index resolves, and
    # a module-level `v2_app = FastAPI(dependencies=[Depends(f)])`: (reference, module path, line,
    # the router or application, the call as written) applies to its routes only.
    guarded: list[tuple[str, str, int, str, str]] = []
    lists = {(include.path, include.line): include for include in guarded_include_lists(project)}
    # `app.dependency_overrides[key] = override` (override's reference, module path, key's reference)
    overriding: list[tuple[str, str, str]] = []
    # named in an `include_router(..., dependencies=[...])` or `FastAPI(dependencies=[...])` list:
    # which routes run it is the list's question, which `reaches_key` does not ask
    listed: set[str] = set()
    # markers of a Session-taking dependency handed to a call in a route's body: {dependency: [(route, marker)]}
    handed: dict[FunctionId, list[tuple[FunctionId, str, int, str]]] = {}
    for module in project.modules.values():
        # A `Depends(...)` value used where the tool cannot follow it: its dependency's reference ->
        # (where the value is written, its name, each use)
        unfollowed: dict[str, list[tuple[str, str, list[str]]]] = {}
        counts: dict[str, int] = {}
        for ref in module.depends:
            counts[ref] = counts.get(ref, 0) + 1
        placed: list[str] = []
        for added in module.registrations:
            if added.attr == INCLUDE_ROUTER:
                listed.update(added.depends)
            if added.attr != INCLUDE_ROUTER:
                # `add_api_route(path, endpoint, dependencies=[...])`: the endpoint's own, as a
                # route decorator's list (an endpoint the index cannot resolve is no route that migrates)
                placed.extend(added.depends)
                continue
            include = lists.get((module.path, added.line))
            if include is not None:
                # A list the closure moves or blocks with the routes its routers serve.
                placed.extend(added.depends)
                continue
            router = _routes(project).router_ref(added.endpoint)
            if router is not None:
                placed.extend(added.depends)
                guarded.extend((ref, module.path, added.line, router, INCLUDE_CALL) for ref in added.depends)
        for name, value in module.values.items():
            if value.depends:
                placed.append(value.depends)
            if value.kind == "depends" and value.ref and _carries_session(project, value.ref):
                # `CurrentUser = Depends(get_current_user)`: the dependency of the parameters it is
                # the default (or `Annotated` metadata) of, when those are all its uses
                value_uses = depends_values.unfollowed(project, module, name)
                if value_uses is not None and not value_uses:
                    placed.append(value.ref)
                elif value_uses:
                    unfollowed.setdefault(value.ref, []).append((f"{module.path}:{value.line}", name, value_uses))
            text = " ".join(arg.text for arg in value.args if arg.keyword == "dependencies")
            callee = project.canonical(value.ref) or ""
            if text and value.kind == "call" and (
                callee.endswith("APIRouter") or callee in project.config.router_types
            ):  # an APIRouter's own list: followed per route through its decorators
                placed.extend(ref for ref in counts if named_in(ref, text))
            elif text and value.kind == "call" and callee in APPLICATION_TYPES:
                # The application's own routes, and the routers included in it; a mounted
                # application's routes are its own (`app.mount("/v2", v2_app)`: v1's are not v2_app's).
                named = [ref for ref in counts if named_in(ref, text)]
                placed.extend(named)
                listed.update(named)
                guarded.extend((ref, module.path, value.line, f"{module.name}.{name}", APPLICATION_CALL) for ref in named)
        for function in module.functions:
            placed.extend(p.depends for p in function.params if p.depends)
            placed.extend(ref for d in function.decorators for ref in d.depends)
        if not is_test_path(module.path):
            # The tests' overrides never run in the application; the application's own run in
            # place of their key, for the routes naming it (`overridden_keys`), unless the key is
            # itself written where the tool cannot tell the routes (checked below, after every module)
            for key, ref in module.overrides:
                placed.append(ref)
                overriding.append((ref, module.path, key))
        for ref in placed:
            if ref in counts:
                counts[ref] -= 1
        for wanted, route, line, text in depends_values.handed_in_routes(project, module) or ():
            # `await verify(security_scopes=Security(verify, ...), db=db)` in a route's body: a
            # plain value handed to a call, no dependency of any route; the routes running that
            # call are blocked (`handed_in_routes`), not every route of the application
            counted = next((r for r, n in counts.items() if n > 0 and (project.canonical(r) or r) == wanted), None)
            runs = dependency_function(project, counted) if counted is not None else None
            if counted is None or runs is None:
                continue
            counts[counted] -= 1
            if _carries_session(project, counted):
                handed.setdefault(runs, []).append((route, module.path, line, text))
        loose.extend(
            (ref, module.path, count > len(unfollowed.get(ref, ())), unfollowed.get(ref, []))
            for ref, count in counts.items() if count > 0
        )
    found: list[FunctionId] = []
    where: dict[FunctionId, list[str]] = {}
    uses: dict[FunctionId, list[tuple[str, str, list[str]]]] = {}
    unplaced = {project.canonical(ref) or ref for ref in (*(entry[0] for entry in loose), *listed)}
    overridden: dict[FunctionId, list[tuple[str, str]]] = {}
    # overrides whose key is itself unattributed: {override: [(module path, the key's reference)]}
    unplaced_overrides: dict[FunctionId, list[tuple[str, str]]] = {}
    for ref, path, key in overriding:
        fid = dependency_function(project, ref)
        if fid is None or not _carries_session(project, ref):
            continue
        if (project.canonical(key) or key) in unplaced:
            # The key runs where the tool cannot tell which routes: so does its override, which is
            # an assignment there, no `Depends(...)` written in that module.
            unplaced_overrides.setdefault(fid, []).append((path, key))
            if fid not in found:
                found.append(fid)
        else:
            overridden.setdefault(fid, []).append((path, key))
    for ref, path, raw, values in loose:
        fid = dependency_function(project, ref)
        if fid is None or not _carries_session(project, ref):
            continue
        if fid not in found:
            found.append(fid)
        if raw:
            where.setdefault(fid, []).append(path)
        uses.setdefault(fid, []).extend(values)
    includes: dict[FunctionId, list[tuple[str, int, str, str]]] = {}
    for ref, path, line, router, call in guarded:
        fid = dependency_function(project, ref)
        if fid is not None and session_route(project, fid) is not None and (
            not project.is_session_dependency(ref) or fid in tx_dependency.wrappers(project)
        ):
            includes.setdefault(fid, []).append((path, line, router, call))
    project.derived["phase2.unattributed_dependencies"] = found
    project.derived["phase2.unattributed_where"] = where
    project.derived["phase2.unattributed_uses"] = uses
    project.derived["phase2.guarded_includes"] = includes
    project.derived["phase2.overridden_keys"] = overridden
    project.derived["phase2.handed_in_routes"] = handed
    project.derived["phase2.unattributed_overrides"] = unplaced_overrides
    return found


def unattributed_overrides(project: Project, fid: FunctionId) -> list[tuple[str, str]]:
    """`app.dependency_overrides[key] = f` setting the unattributed session dependency `f` in place
    of a key that is itself applied where the tool cannot tell which routes: [(module path, key)]."""
    unattributed_session_dependencies(project)
    return cast("dict[FunctionId, list[tuple[str, str]]]", project.derived["phase2.unattributed_overrides"]).get(
        fid, []
    )


def handed_in_routes(project: Project) -> dict[FunctionId, list[tuple[FunctionId, str, int, str]]]:
    """Dependencies receiving a synchronous Session whose `Depends(f)`/`Security(f)` marker a route's
    body hands to a call (`depends_values.handed_in_routes`): {dependency: [(that route, module path,
    line, the marker as reasons show it)]}. FastAPI resolves no marker there, and the tool does not follow what the
    callee does with it: the routes running that body are blocked, no others."""
    unattributed_session_dependencies(project)
    return cast("dict[FunctionId, list[tuple[FunctionId, str, int, str]]]", project.derived["phase2.handed_in_routes"])


def overridden_keys(project: Project) -> dict[FunctionId, list[tuple[str, str]]]:
    """Dependencies receiving a synchronous Session that the application's code sets as the
    override of another (`app.dependency_overrides[verify_prod] = get_root_client`), where that
    key is named only in route signatures, decorators and routers: {override: [(module path, the
    key's reference)]}. FastAPI runs the override only for a route whose dependency tree names
    the key (`reaches_key`); a key written elsewhere makes its override an unattributed one."""
    unattributed_session_dependencies(project)
    return cast("dict[FunctionId, list[tuple[str, str]]]", project.derived["phase2.overridden_keys"])


def reaches_key(project: Project, handler: Handler, key: str) -> bool:
    """Whether FastAPI may resolve the dependency `key` (a reference) for the route: its
    parameters, its decorator's and routers' `dependencies=[...]`, and theirs in turn, name it."""
    wanted = project.canonical(key) or key
    runs = dependency_function(project, key)
    if "." in handler.function.qualname:
        return True  # a method of a view class: its class's attributes are dependencies too
    queue = [project.param_dependency(p) for p in handler.function.params] + route_dependencies(project, handler)
    seen: set[str] = set()
    while queue:
        ref = queue.pop()
        if ref is None or ref in seen:
            continue
        seen.add(ref)
        if (project.canonical(ref) or ref) == wanted:
            return True
        fid = dependency_function(project, ref)
        if fid is not None and fid == runs:
            return True  # the key's function under another name (`checked = make_check()` returning it)
        if fid is not None:
            queue += [project.param_dependency(p) for p in project.functions[fid][1].params]
            continue
        target = project.resolve(ref)
        if target is not None and target.kind == "value" and target.value is not None and (
            target.value.kind != "call" or project.resolve(target.value.ref) is not None
        ):
            return True  # a project value FastAPI calls (`copy_func(verify)`, a factory's result): unread
    return False


def unattributed_modules(project: Project, fid: FunctionId) -> list[str]:
    """Where the `Depends(...)` of an unattributed session dependency are written (module paths)."""
    unattributed_session_dependencies(project)
    return cast("dict[FunctionId, list[str]]", project.derived["phase2.unattributed_where"]).get(fid, [])


def _carries_session(project: Project, ref: str) -> bool:
    """Whether a `Depends(ref)` the tool cannot attribute blocks routes: the dependency receives a
    synchronous Session, and is no session provider (one a route's own parameter moves off)."""
    fid = dependency_function(project, ref)
    if fid is None or (project.is_session_dependency(ref) and fid not in tx_dependency.wrappers(project)):
        return False
    return session_route(project, fid) is not None


def unattributed_values(project: Project, fid: FunctionId) -> list[tuple[str, str, list[str]]]:
    """The module-level `X = Depends(...)` values of an unattributed session dependency used where
    the tool cannot follow them: (where the value is written, its name, each such use)."""
    unattributed_session_dependencies(project)
    return cast("dict[FunctionId, list[tuple[str, str, list[str]]]]", project.derived["phase2.unattributed_uses"]).get(
        fid, []
    )


def session_route(project: Project, fid: FunctionId) -> str | None:
    """How a dependency receives a synchronous Session: "" through a parameter of its own,
    " through `get_current_user`" through a dependency of one of its parameters; None when it does not."""
    _, function = project.functions[fid]
    if any(project.declared_session(param) is not None for param in function.params):
        return ""
    for param in function.params:
        target = dependency_function(project, project.param_dependency(param))
        if target is not None and any(project.declared_session(p) is not None for p in project.functions[target][1].params):
            return f" through `{project.functions[target][1].qualname.removesuffix('.__init__')}`"
    return None


def guarded_includes(project: Project) -> dict[FunctionId, list[tuple[str, int, str, str]]]:
    """Session dependencies given to `include_router(router, dependencies=[...])` of a router the
    index resolves, or to a module-level application's `FastAPI(dependencies=[...])`: {dependency:
    [(module path, line, the included router or the application, INCLUDE_CALL or APPLICATION_CALL)]}."""
    unattributed_session_dependencies(project)
    return cast("dict[FunctionId, list[tuple[str, int, str, str]]]", project.derived["phase2.guarded_includes"])


def served_under(project: Project, handler: Handler, router: str) -> bool:
    """Whether a route may be served under `router`: registered on it or on a router included in
    it, at any depth (`Routes.may_serve_under`, conservative where the index cannot tell)."""
    routes = _routes(project)
    return any(routes.may_serve_under(registration, router) for registration in handler.registrations)


def _routes(project: Project) -> Routes:
    from async_migrate.codemods.routes import Routes

    found = project.derived.get("phase2.routes")
    if found is None:
        found = project.derived["phase2.routes"] = Routes(project)
    return cast("Routes", found)

