"""One function's facts from Python's `ast`: its signature, and what its body calls,
awaits, binds, yields and reads.

Calls are numbered in the order they are written (`codemods.astcollect.syntax.children`),
which is the order a libcst transformer meets them: `facts.Call.index` names a call
for the rewriters without positions. Names that are identifiers in `ast` but names in
the source (parameters of nested functions, imported names, `except ... as e`) count
as uses too, as they do in the source.

Over 500 lines: one walk (`BodyScanner`), whose node handlers share its state (locals,
bindings, the call numbering); the per-function extras after it (decorator shapes, engine
calls, included routers, nested routes) read what that walk found.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import (
    awaited_later,
    beside,
    check_then_act,
    closing,
    coroutine_returns,
    default_scopes,
    deferred,
    dispatch,
    enclosing,
    handed_wrapped,
    handoff,
    implicit,
    lifecycle,
    listeners,
    loop_holders,
    objects,
    param_branches,
    query_vars,
    returns,
    route_overrides,
    router_prefixes,
    syntax,
    unpacked,
)
from async_migrate.codemods.astcollect.by_name import module_attribute
from async_migrate.codemods.astcollect.data_args import data_reads
from async_migrate.codemods.astcollect.fresh import fresh_reads
from async_migrate.codemods.astcollect.module import Collector, free_names, loop_targets, override
from async_migrate.codemods.astcollect.streaming import streamed_option
from async_migrate.codemods.astcollect.syntax import FUNCTIONS, argument, argument_value, dotted, name_of
from async_migrate.codemods.astcollect.wrapper_sessions import plain_wrapper_uses
from async_migrate.codemods.facts import DefinitionKeys
from async_migrate.codemods.vocabulary import ENGINE_CONSTRUCTORS, OFFLOADERS, pydantic, starlette
from async_migrate.codemods.vocabulary.fastapi import (
    APPLICATION_TYPES,
    DEPENDS,
    INCLUDE_ROUTER,
    REGISTRATION_ATTRS,
    ROUTE_ATTRS,
    ROUTE_CLASSES,
    ROUTER_OVERRIDES,
    ROUTER_TYPES,
)
from async_migrate.codemods.vocabulary.python import CONTAINER_TYPES, SCALAR_TYPES
from async_migrate.codemods.vocabulary.sqlalchemy import (
    LOADER_NAMES,
    LOADER_OPTIONS,
    NARROWING_NAMES,
    NARROWING_OPTIONS,
    POLYMORPHIC,
    POLYMORPHIC_LOADERS,
    UNDEFER_NAMES,
    UNDEFER_OPTIONS,
)
from async_migrate.codemods.vocabulary.starlette import (
    HOOK_DECORATORS,
    HOOK_REGISTRATIONS,
    RENDERING_METHODS,
    RESPONSE_KEYWORDS,
    STREAMING_RESPONSE,
    TEMPLATE_GETTERS,
)

# Constructors whose keywords may name hooks (`FastAPI(lifespan=...)` in an application factory).
_HOOK_NAMES = frozenset({*HOOK_REGISTRATIONS, *HOOK_DECORATORS})
# Words a module registering a hook by name holds (`Collector.hook_arguments`).
_HOOK_WORDS = ("add_", "exception_handlers", "lifespan", "on_startup", "on_shutdown", "middleware")
_HOOKED = frozenset({*APPLICATION_TYPES, "starlette.applications.Starlette", "fastapi.APIRouter",
                     "fastapi.routing.APIRouter"})

_CLOSING = "contextlib.closing"
_PARTIAL = "functools.partial"
_SELF = frozenset({"self", "cls"})
# The sources of a dispatched call that name no container (`astcollect.dispatch`).
_MARKERS = frozenset({dispatch.UNREAD, dispatch.LAMBDA})
# A task group's methods taking the function a task runs and its arguments (`tg.start_soon(f, db)`).
_STARTS = frozenset({"start_soon", "start"})
# A local bound to one of these holds what its elements (a dict's values) are: `Function.displays`.
_DISPLAYS = (ast.Dict, ast.List, ast.Tuple, ast.Set)


def read_function(
    collector: Collector,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    qualname: str,
    keys: DefinitionKeys,
    routers: dict[str, str] | None = None,
    held: dict[str, str] | None = None,
    scope: frozenset[str] = frozenset(),
) -> None:
    """Append the facts of one `def` (and of the routes defined inside it) to the module's.
    `routers`, `held` and `scope`: the enclosing function's locals made by a call, its
    routers that are instance attributes (`held_routers`), and all its names."""
    imported = collector.scope_imports
    # The function's own imports, on top of those of the functions it is nested in.
    collector.scope_imports = dict(imported)
    try:
        _read_function(collector, node, qualname, keys, routers, held, scope)
    finally:
        collector.scope_imports = imported


def _read_function(
    collector: Collector,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    qualname: str,
    keys: DefinitionKeys,
    routers: dict[str, str] | None,
    held: dict[str, str] | None,
    scope: frozenset[str],
) -> None:
    # By position: keywords are matched one by one against the dataclass's 45 parameters.
    function = facts.Function(node.name, qualname, keys.next(qualname), node.lineno, type(node) is ast.AsyncFunctionDef)
    args = node.args
    defaults = dict(syntax.parameters(args))
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if args.vararg is not None:
        params.append(args.vararg)
    if args.kwarg is not None:
        params.append(args.kwarg)
    names = frozenset([p.arg for p in params])
    positional = len(args.posonlyargs) + len(args.args)
    for number, param in enumerate(params):
        recorded = collector.param(param, defaults.get(param))
        recorded.positional = number < positional
        if param is args.vararg:
            recorded.variadic = "*"
        elif param is args.kwarg:
            recorded.variadic = "**"
        function.params.append(recorded)
    if node.returns is not None:
        function.returns = tuple(collector.refs(node.returns))
        function.returns_no_object = _holds_no_object(collector, node.returns)
        if collector.source.mentions("Coroutine") or collector.source.mentions("Awaitable"):
            function.coroutine_return = coroutine_returns.shape(node.returns, collector.ref, collector.constant)
        if not function.coroutine_return and collector.source.mentions("async def"):
            imported = coroutine_returns.imported(node.returns, collector.ref, collector.constant, collector.name)
            if imported and any(type(inner) is ast.AsyncFunctionDef and inner is not node for inner in ast.walk(node)):
                function.coroutine_return = imported
    for decorator in node.decorator_list:
        function.decorators.append(collector.decorator(decorator, routers, held, scope))
    function.pragma = collector.source.pragma(node)
    function.abstract = _abstract(node, function.decorators)
    if "." in qualname and "<locals>" not in qualname:
        if node.name in route_overrides.RECEIVING:
            function.hands_to_super = route_overrides.hands_to_super(node)
        if collector.source.mentions_within("endpoint", node) or collector.source.mentions_within("dependant", node):
            function.endpoint_reads = route_overrides.endpoint_reads(node)
    if collector.source.mentions_within("prefix", node) or (
        node.name == "__init__" and collector.source.mentions_within("**", node)
    ):
        function.router_prefixes = router_prefixes.read(node)
    scanner = BodyScanner(collector, function, names)
    scanner.top = {
        id(statement.value) for statement in node.body
        if isinstance(statement, (ast.Expr, ast.Assign, ast.AnnAssign, ast.Return))
        and type(statement.value) is ast.Call
    }
    function.ends_in_return = type(node.body[-1]) is ast.Return
    function.name_returns = returns.name_returns(node.body)
    function.param_tests = param_branches.param_tests(node)
    # The body outside nested scopes, walked once for every reader below.
    own = objects.OwnNodes(node.body)
    function.exits = returns.exits(node.body, own.jumps)
    function.failed_into = returns.failed_into(own.tries)
    if collector.source.mentions_within("iscoroutinefunction", node):
        scanner.coroutine_sides = _coroutine_sides(node.body)
    scanner.scan(node.body, own.writes)
    if collector.source.mentions_within("**", node):
        unpacked.read(node, scanner.raw_calls)
    if any(call.func is not None and call.receiver is None and call.func[1:] in scanner.locals for call in function.calls):
        local = frozenset(scanner.locals - scanner.declared_global)
        deferred.read(node, function, lambda written: collector.resolve(written, local), local)
    if function.scope_defaults:
        default_scopes.read(node, function)
    if positional:
        function.self_updates = attribute_updates(own.writes, params[0].arg)
        if collector.source.mentions("Cache"):  # what a cachetools cache the instance holds takes
            function.self_writes = attribute_writes(own.writes, params[0].arg)
    if function.is_generator and type(node) is ast.AsyncFunctionDef and not params:
        # `@asynccontextmanager async def session_scope()` opening a synchronous Session: its
        # body is read alike, and phase two twins it as it twins a `@contextmanager` opener
        function.lifecycle = lifecycle.read(node, collector.source.line_of)  # type: ignore[arg-type]
    if function.is_generator and type(node) is ast.FunctionDef:  # `@contextmanager`, or `contextmanager(f)` later
        function.lifecycle = lifecycle.read(node, collector.source.line_of)
        if params:
            function.handed_lifecycle = lifecycle.handed_lifecycle(node, collector.source.line_of)
    # `session = Session()` of a local name (a registry picked by a parameter): AM332 reads it
    if any(opened.name is not None and opened.index == -1 for opened in function.opens) or any(
        b.expr.startswith("$") and b.expr.endswith("()") and b.expr.count("(") == 1 and "." not in b.expr
        for b in function.bindings
    ):
        function.closed_always = closing.closed_on_every_path(node, collector.source.line_of)
    # a method without calls may still read relationships; a function without calls may
    # return an object its parameters bring (`return current_user` under a response model)
    indexes = {id(func): call.index for call, func in scanner.raw_calls}
    kept = {}
    if any(call.query_chain is not None and not call.query_iterated for call in function.calls):
        kept = query_vars.read(collector.source, node, function, indexes)
    # Each reader below needs calls or parameters: a function with neither has nothing for them to read.
    readers = bool(function.calls or "." in qualname or function.params)
    nodes = own.nodes if readers else None
    if readers:
        objects.read(
            collector, node, function, indexes, frozenset(scanner.locals), kept, scanner.returned_written, own,
            scanner.greenlet_scopes,
        )
    by_func = {id(func): call for call, func in scanner.raw_calls if not call.offloaded}
    if handoff.schedules(function):
        handoff.read(collector.source, node, by_func, nodes)
        beside.read(node, by_func, nodes)
    elif handoff.starts(function):
        handoff.hold_started(node, by_func, nodes)
        beside.read(node, by_func, nodes)
    if by_func:
        awaited_later.read(node, by_func, nodes)
        awaited_later.unread_holds(node, by_func, nodes)
    if function.is_async and not function.is_generator and _awaits_a_param(function):
        function.awaited_params = awaited_later.awaited_params(node, by_func, nodes)
    # A method used as a decorator (`@audit.track` on a module-level `Auditor()`) is handed the
    # function after its instance: its first parameter is `self` (or `cls`), not the function.
    owner = qualname.rpartition(".")[0]
    bound = bool(owner) and not owner.endswith("<locals>") and not any(
        name_of(d) == "staticmethod" for d in node.decorator_list
    )
    function.wraps, function.wrapped = _decorator_shape(collector, node, bound)
    if function.wrapped is not None:
        function.hands_wrapped = handed_wrapped.handed_on(
            node, function.wrapped, collector.source.code, collector.module_defs
        )
    if function.wraps is not None:
        awaiting = _loop_wrapper_node(collector, node, bound)
        if awaiting is not None:
            wrapper, wrapped = awaiting
            function.loop_wrapper = wrapper.lineno, wrapper.end_lineno or wrapper.lineno
            function.loop_wrapper_uses = plain_wrapper_uses(collector, wrapper, wrapped)
        plain = _plain_wrapper(collector, node, bound)
        if plain is not None:
            function.plain_wrapper = plain_wrapper_uses(collector, *plain)
        coroutine, _ = _decorator_shape(collector, node, bound, coroutine=True)
        # no shape on the coroutine side of a branch on `iscoroutinefunction(func)` (`return
        # make_async(func)`): what a coroutine function gets is not known, not the plain wrapper
        coroutine = coroutine or "unknown"
        function.wraps_coroutine = coroutine if coroutine != function.wraps else None
        function.returns_call = coroutine == "sync" and _returns_call(collector, node, bound)
    else:
        function.delegates = _delegation(collector, node, bound)
    if any(call.callee in ENGINE_CONSTRUCTORS for call in function.calls):
        _engine_calls(collector, node, function)
    if any((call.callee or "").endswith(".configure") for call in function.calls):
        _configure_calls(collector, node, function)
    if _calls_register(function.calls):
        _included_routers(collector, node, function)
    if collector.source.mentions_within("listen", node):
        listeners.read(collector, node, qualname)
    collector.facts.functions.append(function)
    if not collector.source.one_line_suite(node.body):
        _nested_routes(collector, node, qualname, keys, names)


def _awaits_a_param(function: facts.Function) -> bool:
    """Whether the own body may await a parameter in place (`await coro`, `await wait_for(coro, 5)`):
    only then is it walked again for `awaited_params`."""
    params = {p.name for p in function.params}
    return bool(params) and any(
        text.removeprefix("await ") in params or "wait_for(" in text for _, text in function.awaits
    )


_REGISTERING_METHODS = frozenset({INCLUDE_ROUTER, starlette.MOUNT, *HOOK_REGISTRATIONS})
_REGISTERING_CALLEES = frozenset({*_HOOKED, *ROUTE_CLASSES})


def _calls_register(calls: list[facts.Call]) -> bool:
    """Whether a call may include a router, register a route or a hook: only then is the body
    read again for them (`_included_routers`). Asked of every call of every function."""
    for call in calls:
        callee = call.callee
        if call.method in _REGISTERING_METHODS or callee in _REGISTERING_CALLEES:
            return True
        func = call.func
        if (callee or func or "").rpartition(".")[2] in REGISTRATION_ATTRS:
            return True
        if func is not None and func[-2:] == "()" and func[:-2].rpartition(".")[2] in ROUTE_ATTRS:
            return True
        if callee is not None and callee.rpartition(".")[2] in _HOOK_NAMES:
            return True
    return False


def _defined_once(body: list[ast.stmt]) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions defined inside `body`, at any depth, whose name no other of them has: a use
    of the name is a use of that one function."""
    nested = [
        node for statement in body for node in ast.walk(statement)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    counts: dict[str, int] = {}
    for node in nested:
        counts[node.name] = counts.get(node.name, 0) + 1
    return [node for node in nested if counts[node.name] == 1]


def _yields(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the function's own body yields (a nested function's or lambda's yield is not its own)."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        if type(node) in (ast.Yield, ast.YieldFrom):
            return True
        if type(node) in (*FUNCTIONS, ast.Lambda, ast.ClassDef):
            continue
        pending.extend(ast.iter_child_nodes(node))
    return False


def _nested_routes(
    collector: Collector,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    qualname: str,
    keys: DefinitionKeys,
    params: frozenset[str],
) -> None:
    """Routes defined inside a function (a router factory), as `make_routes.<locals>.list_all`.

    Every nested definition takes its key, in the order the rewriters number them,
    but only those with route-like decorators are collected.
    """
    body = list(collector.definitions(node.body))
    nested = [s for s in body if isinstance(s, FUNCTIONS)]
    if not nested:
        return
    source = collector.source
    # registered by name (`router.add_api_route("/x", health)`): the body is read only when the
    # module's text can hold such a call
    registered = _registered_names(node) if source.mentions("add_") or source.mentions(")(") else set()
    if any(source.mentions(word) for word in _HOOK_WORDS):
        # a hook it registers by name: `app.add_exception_handler(E, on_error)`, `lifespan=lifespan`
        registered |= _hooked_names(collector, node)
    registered |= _returned_endpoints(node, nested)
    if source.mentions("load_fn") or source.mentions("DataLoader") or source.mentions("resolver="):
        registered |= _resolver_names(node)
    if source.mentions_within("listen", node):
        registered |= listeners.handler_names(node)
    if not any(_route_like(s) or s.name in registered for s in nested):
        return
    routers: dict[str, str] = {}
    for statement in body:
        if (
            type(statement) is ast.Assign
            and len(statement.targets) == 1
            and type(statement.targets[0]) is ast.Name
            and type(statement.value) is ast.Call
        ):
            made_by = collector.resolve(dotted(statement.value.func), params)
            if made_by is not None:
                routers[statement.targets[0].id] = made_by
    held = held_routers(collector, node, qualname)
    scope = params | {n.id for n in ast.walk(node) if type(n) is ast.Name and type(n.ctx) is not ast.Load}
    outer = collector.enclosing
    collector.enclosing = {**outer, **enclosing.bindings(node)}
    # A route awaiting a sibling (`await get_item(1, db)`), or handing the Session to a helper or
    # an async generator the factory defines beside it (`StreamingResponse(rows(db))`), calls a
    # function of this scope: each is collected, and its name in the nested bodies resolves to it,
    # unless the factory binds that name again or defines it twice.
    counts = Counter(s.name for s in nested)
    siblings = {
        s.name: f"{collector.name}.{qualname}.<locals>.{s.name}" if collector.name else f"{qualname}.<locals>.{s.name}"
        for s in nested if counts[s.name] == 1 and s.name not in scope
    }
    imported = collector.scope_imports
    collector.scope_imports = {**imported, **siblings}
    try:
        for statement in nested:
            name = f"{qualname}.<locals>.{statement.name}"
            if _route_like(statement) or statement.name in registered or statement.name in siblings:
                collector.function(statement, name, keys, routers, held, scope)
            else:
                keys.next(name)
    finally:
        collector.enclosing = outer
        collector.scope_imports = imported


def held_routers(collector: Collector, node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> dict[str, str]:
    """In a method, the instance attributes of its class that may hold a router
    (`facts.ClassFacts.held`), as written: `self.router`, and a local bound to it once
    (`router = self.router`) -> `module.Class.router`. Empty where `self` is bound again."""
    owner = qualname.rpartition(".")[0]
    cls = next((c for c in collector.facts.classes if c.qualname == owner), None) if owner else None
    positional = node.args.posonlyargs or node.args.args
    if cls is None or not cls.held or not positional:
        return {}
    first = positional[0].arg
    home = f"{collector.facts.name}.{owner}"
    found = {f"{first}.{attribute}": f"{home}.{attribute}" for attribute in cls.held}
    bound: dict[str, int] = {}
    aliases: dict[str, str] = {}
    for inner in ast.walk(node):
        if type(inner) is ast.Name and type(inner.ctx) is not ast.Load:
            bound[inner.id] = bound.get(inner.id, 0) + 1
        elif type(inner) is ast.arg and inner is not positional[0]:
            bound[inner.arg] = bound.get(inner.arg, 0) + 1  # a nested function's parameter
        if type(inner) is ast.Assign and len(inner.targets) == 1 and type(inner.targets[0]) is ast.Name:
            value = dotted(inner.value)
            if value in found:
                aliases[inner.targets[0].id] = found[value]
    if bound.get(first):
        return {}
    found.update((name, ref) for name, ref in aliases.items() if bound.get(name) == 1)
    return found


def _registered_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names a function body registers as endpoints: `router.add_api_route("/x", health)`,
    `router.get("/x")(health)`, `partial(health, ...)` in either.

    Not one the body also calls (`await health(db)` elsewhere in the factory): its callers are
    not collected, so whether it must stay a coroutine function is unknown (it stays unverified).
    """
    found: set[str] = set()
    called: set[str] = set()
    for current in ast.walk(node):
        if type(current) is not ast.Call:
            continue
        func = current.func
        if type(func) is ast.Name:
            called.add(func.id)
            continue
        if type(func) is ast.Attribute and func.attr in REGISTRATION_ATTRS:
            endpoint = argument(current, 1, "endpoint")
        elif type(func) is ast.Call and type(func.func) is ast.Attribute and func.func.attr in ROUTE_ATTRS:
            endpoint = current.args[0] if len(current.args) == 1 else None
        else:
            continue
        if type(endpoint) is ast.Call and endpoint.args:  # `partial(health, "x")`
            endpoint = endpoint.args[0]
        if type(endpoint) is ast.Name:
            found.add(endpoint.id)
    return found - called


def _hooked_names(collector: Collector, node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names a function body registers as hooks the application runs (`Collector.hook_arguments`:
    `app.add_exception_handler(E, on_error)`, `add_middleware(BaseHTTPMiddleware, dispatch=f)`,
    `FastAPI(lifespan=lifespan, exception_handlers={...})`, `app.router.on_startup.append(f)`).
    Not one the body also calls, as `_registered_names`."""
    found: set[str] = set()
    called: set[str] = set()
    for current in ast.walk(node):
        if type(current) is not ast.Call:
            continue
        if type(current.func) is ast.Name:
            called.add(current.func.id)
        for _, named in collector.hook_arguments(current):
            if type(named) is ast.Name:
                found.add(named.id)
    return found - called


def _resolver_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names a function body hands a GraphQL schema to run on the event loop: a DataLoader's
    `load_fn` (`DataLoader(load_fn=load_authors)`, or first), `strawberry.field(resolver=f)`.
    The project index tells the library by the call's resolved name (`Project._resolvers`)."""
    found: set[str] = set()
    for current in ast.walk(node):
        if type(current) is not ast.Call:
            continue
        func = current.func
        name = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else None
        if name == "DataLoader":
            handed = argument(current, 0, "load_fn")
        elif name in ("field", "mutation", "subscription"):
            handed = next((k.value for k in current.keywords if k.arg == "resolver"), None)
        else:
            continue
        if type(handed) is ast.Name:
            found.add(handed.id)
    return found


def _declared_class(annotation: ast.expr | None) -> bool:
    """`type[T]`, `Type[Repo]`, `typing.Type[...]`: a parameter holding a class."""
    if type(annotation) is not ast.Subscript:
        return False
    head = annotation.value
    name = head.id if type(head) is ast.Name else head.attr if type(head) is ast.Attribute else None
    return name in ("type", "Type")


def _returned_endpoints(
    node: ast.FunctionDef | ast.AsyncFunctionDef, nested: list[ast.FunctionDef | ast.AsyncFunctionDef]
) -> set[str]:
    """The nested function a handler factory returns on every path
    (`def make_list(model): async def endpoint(db=Depends(get_db)): ...; return endpoint`),
    which a registration elsewhere serves (`router.add_api_route("/x", make_list(User))`).
    Not one the factory also calls, as `_registered_names`."""
    returned: set[str] = set()
    called: set[str] = set()
    pending: list[ast.AST] = list(node.body)
    while pending:
        current = pending.pop()
        if isinstance(current, (*FUNCTIONS, ast.ClassDef, ast.Lambda)):
            continue
        if type(current) is ast.Return:
            returned.add(current.value.id if type(current.value) is ast.Name else "")
        elif type(current) is ast.Call and type(current.func) is ast.Name:
            called.add(current.func.id)
        pending.extend(ast.iter_child_nodes(current))
    if len(returned) != 1:
        return set()
    (name,) = returned
    found = next((s for s in nested if s.name == name), None)
    if found is None or name in called or _registers(found):
        return set()
    if type(found) is ast.AsyncFunctionDef:
        return {name}
    # a `def` too (phase one made it one), but not a decorator's: one passing `*args, **kwargs`
    # on (an endpoint's parameters are what FastAPI fills, never variadic), calling the function
    # the factory was given, or handing back what it was given itself (`def mark(fn): ...; return fn`)
    if found.args.vararg is not None or found.args.kwarg is not None:
        return set()
    # a parameter declared a class (`cls: type[T]`) is what a dependency factory builds from
    # (`def repository(cls: type[T]): def _build(session): return cls(session)`), no function
    given = {p.arg for p, _ in syntax.parameters(node.args) if not _declared_class(p.annotation)}
    own = {p.arg for p, _ in syntax.parameters(found.args)}
    for inner in ast.walk(found):
        if type(inner) is ast.Call and type(inner.func) is ast.Name and inner.func.id in given:
            return set()
        if type(inner) is ast.Return and type(inner.value) is ast.Name and inner.value.id in own:
            return set()
    return {name}


def _registers(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a function's body registers routes or includes routers (a class decorator
    registering a view's methods): it serves no request itself."""
    return any(
        type(inner) is ast.Call and type(inner.func) is ast.Attribute
        and (inner.func.attr in REGISTRATION_ATTRS or inner.func.attr == INCLUDE_ROUTER)
        for inner in ast.walk(node)
    )


def _route_like(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Decorated like a route: `@x.get("/path")`, `@x.api_route(...)`, `@x.websocket(...)`, or like
    a hook the application runs per request (`@app.middleware("http")`, `@app.exception_handler(E)`)."""
    return any(
        type(d) is ast.Call and type(d.func) is ast.Attribute
        and (d.func.attr in ROUTE_ATTRS or d.func.attr in HOOK_DECORATORS)
        for d in node.decorator_list
    )


_COMPOUND = (*syntax.COMPOUND, *syntax.FUNCTIONS, ast.ClassDef, ast.Match)


def _holds_no_object(collector: Collector, node: ast.expr) -> bool:
    """A type expression whose values cannot hold an ORM object: scalar types only, in containers
    whose arguments name what they hold; anything else (a bare `list`, a class) is unknown."""
    written = syntax.string(node)
    if written is not None:  # a forward reference: "list[str]"
        try:
            node = ast.parse(written.strip(), mode="eval").body
        except SyntaxError:
            return False
        if syntax.string(node) is not None:
            return False
    if type(node) is ast.BinOp and type(node.op) is ast.BitOr:
        return _holds_no_object(collector, node.left) and _holds_no_object(collector, node.right)
    if type(node) is ast.Subscript:
        return collector.ref(node.value) in CONTAINER_TYPES and all(
            type(e) is ast.Constant and e.value is Ellipsis or _holds_no_object(collector, e)
            for e in syntax.elements(node.slice)
        )
    return collector.ref(node) in SCALAR_TYPES


def _abstract(node: ast.FunctionDef | ast.AsyncFunctionDef, decorators: list[facts.Decorator]) -> bool:
    """An abstract method: `@abstractmethod`, or a body that only documents or refuses."""
    if any(d.callee is not None and d.callee.endswith("abstractmethod") for d in decorators):
        return True
    for statement in node.body:
        kind = type(statement)
        if isinstance(statement, _COMPOUND):
            return False
        if kind is ast.Pass:
            continue
        if kind is ast.Expr and type(statement.value) is ast.Constant and (  # type: ignore[attr-defined]
            type(statement.value.value) in (str, bytes) or statement.value.value is Ellipsis  # type: ignore[attr-defined,operator]
        ):
            continue
        if kind is ast.Raise and statement.exc is not None:  # type: ignore[attr-defined]
            exc = statement.exc  # type: ignore[attr-defined]
            if "NotImplementedError" in (dotted(exc.func if type(exc) is ast.Call else exc) or ""):
                continue
        return False
    return True


def _decorator_shape(
    collector: Collector, node: ast.FunctionDef | ast.AsyncFunctionDef, bound: bool = False, coroutine: bool = False
) -> tuple[str | None, str | None]:
    """How a function behaves when used as a decorator, and its parameter holding the function
    it decorates.

    passthrough: returns the decorated function itself (a marker or registry).
    coroutine: returns an `async def` wrapper that awaits the decorated function.
    sync: returns a plain wrapper that calls the decorated function.
    unknown: anything else that takes a function and returns something.
    A decorator factory (`@tagged("x")`) has the shape of the decorator it returns. `bound`: a
    method, whose first parameter is its instance or class. `coroutine`: the shape for an `async
    def` it decorates (past a branch on `iscoroutinefunction(func)`, the coroutine side), else
    for a plain function.
    """
    params = [*node.args.posonlyargs, *node.args.args][1 if bound else 0 :]
    if not params:
        return None, None
    first = params[0].arg
    body = [] if collector.source.one_line_suite(node.body) else _plain_path(node.body, first, coroutine)
    inner = {s.name: s for s in body if isinstance(s, FUNCTIONS)}
    returned = [s.value for s in body if type(s) is ast.Return and s.value is not None]
    if not returned:
        return None, None
    # `if SETTINGS.strict: return sync_wrap(func)` before `return func` returns a wrapper too
    if any(name_of(value) == first for value in returned) and all(
        name_of(value) == first for value in _own_returns(body)
    ):
        return "passthrough", first
    for value in returned:
        # `return functools.wraps(func)(wrapper)` returns `wrapper`
        if type(value) is ast.Call and type(value.func) is ast.Call and (value.args or value.keywords):
            value = argument_value(syntax.call_arguments(value)[0])
        name = name_of(value)
        if name is None or name not in inner:
            continue
        wrapper = inner[name]
        wrapper_shape = _wrapper_calls(wrapper, first)
        if wrapper_shape is not None:
            return wrapper_shape, first
        # a factory: `def tagged(label): def decorate(func): ...; return decorate`
        factory_shape, wrapped = _decorator_shape(collector, wrapper, coroutine=coroutine)
        if factory_shape is not None:
            return factory_shape, wrapped
        return "unknown", None
    return None, None


def _plain_wrapper(
    collector: Collector, node: ast.FunctionDef | ast.AsyncFunctionDef, bound: bool = False
) -> tuple[ast.FunctionDef, str] | None:
    """The plain `def` wrapper a decorator returns for a plain function, calling the function it
    decorates (past a branch on `iscoroutinefunction(func)`, the plain side; a factory's, of the
    decorator it returns), with the name holding that function; None where there is none."""
    params = [*node.args.posonlyargs, *node.args.args][1 if bound else 0 :]
    if not params or collector.source.one_line_suite(node.body):
        return None
    first = params[0].arg
    body = _plain_path(node.body, first)
    inner = {s.name: s for s in body if isinstance(s, FUNCTIONS)}
    for value in (s.value for s in body if type(s) is ast.Return and s.value is not None):
        if type(value) is ast.Call and type(value.func) is ast.Call and (value.args or value.keywords):
            value = argument_value(syntax.call_arguments(value)[0])
        wrapper = inner.get(name_of(value) or "")
        if wrapper is None:
            continue
        shape = _wrapper_calls(wrapper, first)
        if shape == "sync" and type(wrapper) is ast.FunctionDef:
            return wrapper, first
        if shape is None:
            return _plain_wrapper(collector, wrapper)  # a factory's decorator
        return None
    return None


def _returns_call(collector: Collector, node: ast.FunctionDef | ast.AsyncFunctionDef, bound: bool) -> bool:
    """Whether the plain wrapper a decorator returns (for an `async def`, past a branch on
    `iscoroutinefunction(func)`) returns only `func(...)`: a coroutine function's coroutine,
    unrun. One returning anything else (`asyncio.run(func(...))`, a result it kept) may run it;
    a factory's wrapper is not read here."""
    params = [*node.args.posonlyargs, *node.args.args][1 if bound else 0 :]
    if not params or collector.source.one_line_suite(node.body):
        return False
    first = params[0].arg
    body = _plain_path(node.body, first, True)
    inner = {s.name: s for s in body if type(s) is ast.FunctionDef}
    returned = _own_returns(body)
    wrappers = []
    for value in returned:
        if type(value) is ast.Call and type(value.func) is ast.Call and (value.args or value.keywords):
            value = argument_value(syntax.call_arguments(value)[0])
        name = name_of(value)
        if name is None or name not in inner:
            return False
        wrappers.append(inner[name])
    return bool(wrappers) and all(
        type(value) is ast.Call and dotted(value.func) == first
        for wrapper in wrappers for value in _own_returns(wrapper.body)
    )


def _delegation(
    collector: Collector, node: ast.FunctionDef | ast.AsyncFunctionDef, bound: bool = False
) -> tuple[str, bool] | None:
    """`def api(fn): return timed(fn)` (("timed", False)) or `return translate_errors(409)(fn)`
    (("translate_errors", True)): a body (past a docstring) that only hands the function it is
    given to another decorator, read by name only here, where the module alone cannot tell
    what that one is. `bound`: a method, whose first parameter is its instance or class."""
    if type(node) is not ast.FunctionDef:
        return None
    arguments = node.args
    params = [*arguments.posonlyargs, *arguments.args][1 if bound else 0 :]
    if len(params) != 1 or arguments.vararg or arguments.kwarg or arguments.kwonlyargs:
        return None
    body = node.body[1:] if _docstring(node.body[0]) else node.body
    if not body or type(body[-1]) is not ast.Return or body[-1].value is None:
        return None
    first = params[0].arg
    value: ast.expr = body[-1].value
    before = body[:-1]
    held = name_of(value)
    if held is not None and held != first:
        # `wrapped = timed(fn)`, what it registers or logs, then `return wrapped`
        made = [
            i for i, statement in enumerate(before)
            if type(statement) is ast.Assign and len(statement.targets) == 1 and name_of(statement.targets[0]) == held
        ]
        if len(made) != 1:
            return None
        value = before[made[0]].value  # type: ignore[attr-defined]
        before = before[: made[0]] + before[made[0] + 1 :]
    if (
        type(value) is not ast.Call or value.keywords or len(value.args) != 1
        or name_of(value.args[0]) != first
    ):
        return None
    # What runs before it (registering, logging) only delegates when it returns nothing itself and
    # leaves the function and the name returned bound as given.
    if _own_returns(before, anything=True) or _rebinds(before, {first, held or first}):
        return None
    factory = type(value.func) is ast.Call
    func = value.func.func if type(value.func) is ast.Call else value.func
    local = frozenset(a.arg for a in [*arguments.posonlyargs, *arguments.args])
    ref = collector.ref(func, local)
    return (ref, factory) if ref is not None else None


def _own_returns(statements: list[ast.stmt], anything: bool = False) -> list[ast.expr]:
    """The values the statements return, at any depth outside nested functions, lambdas and
    classes (a bare `return` as None); with `anything`, a `yield` or `await` counts as one."""
    found: list[ast.expr] = []
    pending: list[ast.AST] = list(statements)
    while pending:
        node = pending.pop()
        kind = type(node)
        if kind is ast.Return:
            found.append(node.value or ast.Constant(None))  # type: ignore[attr-defined]
        elif anything and kind in (ast.Yield, ast.YieldFrom, ast.Await):
            found.append(node)  # type: ignore[arg-type]
        if kind in (*FUNCTIONS, ast.Lambda, ast.ClassDef):
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def _rebinds(statements: list[ast.stmt], names: set[str]) -> bool:
    """Whether the statements may bind one of `names` again (an assignment, a loop or `with`
    target, `del`, a nested def or class of that name, a `global` or `nonlocal`, an import)."""
    for node in (n for statement in statements for n in ast.walk(statement)):
        kind = type(node)
        if kind is ast.Name and type(node.ctx) is not ast.Load and node.id in names:  # type: ignore[attr-defined]
            return True
        if kind in (*FUNCTIONS, ast.ClassDef) and node.name in names:  # type: ignore[attr-defined]
            return True
        if kind in (ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom):
            return True
    return False


def _docstring(statement: ast.stmt) -> bool:
    return (
        type(statement) is ast.Expr and type(statement.value) is ast.Constant
        and type(statement.value.value) is str
    )


def _plain_path(statements: list[ast.stmt], first: str, coroutine: bool = False) -> list[ast.stmt]:
    """The statements a decorator runs for a plain function: past a branch on
    `iscoroutinefunction(func)`, the side a plain function takes (what a route phase one
    converts gets), the statements after it included; with `coroutine`, the side an `async
    def` takes."""
    path: list[ast.stmt] = []
    for number, statement in enumerate(statements):
        if type(statement) is ast.If:
            tested = _coroutine_test(statement.test, first)
            if tested is not None:
                taken = statement.body if tested == coroutine else statement.orelse
                if taken and type(taken[-1]) in (ast.Return, ast.Raise):
                    return path + _plain_path(taken, first, coroutine)  # what follows is the other side's
                return path + _plain_path([*taken, *statements[number + 1 :]], first, coroutine)
        path.append(statement)
    return path


def _coroutine_test(test: ast.expr, first: str) -> bool | None:
    """True for `iscoroutinefunction(func)` (any module's), False for its negation, else None."""
    tested = _coroutine_tested(test)
    return tested[1] if tested is not None and tested[0] == first else None


def _coroutine_sides(body: list[ast.stmt]) -> dict[int, bool]:
    """Calls of a bare name `f` on one side of a branch on `iscoroutinefunction(f)`: the call's id
    -> True on the coroutine side (`if iscoroutinefunction(fn): await fn(db)`), False on the
    other (its `else`, or what follows an `if` whose body always returns or raises). Each side
    runs only the functions of its kind that `f` may be."""
    sides: dict[int, bool] = {}

    def mark(statements: list[ast.stmt], name: str, coroutine: bool) -> None:
        for statement in statements:
            for inner in ast.walk(statement):
                if type(inner) is ast.Call and type(inner.func) is ast.Name and inner.func.id == name:
                    sides.setdefault(id(inner), coroutine)
                elif type(inner) is ast.Name and inner.id == name:  # `run_in_threadpool(fn, db)`
                    sides.setdefault(id(inner), coroutine)

    pending = [body]
    while pending:
        statements = pending.pop()
        for number, statement in enumerate(statements):
            if type(statement) is ast.If and (tested := _coroutine_tested(statement.test)) is not None:
                name, coroutine = tested
                mark(statement.body, name, coroutine)
                mark(statement.orelse, name, not coroutine)
                if not statement.orelse and type(statement.body[-1]) in (ast.Return, ast.Raise):
                    mark(statements[number + 1 :], name, not coroutine)
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(statement, field, None)
                if inner and type(statement) not in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                    pending.append(inner if field != "handlers" else [s for h in inner for s in h.body])
    return sides


def _coroutine_tested(test: ast.expr) -> tuple[str, bool] | None:
    """(`f`, True) for `iscoroutinefunction(f)` (any module's), (`f`, False) for its negation."""
    if type(test) is ast.UnaryOp and type(test.op) is ast.Not:
        inner = _coroutine_tested(test.operand)
        return None if inner is None else (inner[0], not inner[1])
    if (
        type(test) is ast.Call and (dotted(test.func) or "").rpartition(".")[2] == "iscoroutinefunction"
        and len(test.args) == 1 and (name := name_of(test.args[0])) is not None
    ):
        return name, True
    return None


def _wrapper_calls(wrapper: ast.FunctionDef | ast.AsyncFunctionDef, wrapped: str) -> str | None:
    awaited = False
    called = False
    # `return func(*args)` in an `async def` wrapper: the plain function runs on the event loop
    in_place = False
    for statement in wrapper.body:
        for node in syntax.walk(statement):
            if type(node) is ast.Await and type(node.value) is ast.Call and dotted(node.value.func) == wrapped:
                awaited = True
            if type(node) is ast.Call and dotted(node.func) == wrapped:
                called = True
            if (
                type(node) in (ast.Return, ast.Expr, ast.Assign)
                and type(node.value) is ast.Call  # type: ignore[attr-defined]
                and dotted(node.value.func) == wrapped  # type: ignore[attr-defined]
            ):
                in_place = True
    if awaited:
        return "coroutine"
    if called:
        return "sync" if type(wrapper) is ast.FunctionDef else "loop" if in_place else "unknown"
    return None


def _loop_wrapper_node(
    collector: Collector, node: ast.FunctionDef | ast.AsyncFunctionDef, bound: bool = False
) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, str] | None:
    """The `async def` wrapper a decorator returns for a coroutine function (in a branch on
    `iscoroutinefunction(func)` or whatever it is given), which runs on the event loop around
    every call of an `async def` it decorates; a factory's, of the decorator it returns; with the
    name holding the function it wraps. `bound`: a method, whose first parameter is its instance
    or class."""
    params = [*node.args.posonlyargs, *node.args.args][1 if bound else 0 :]
    if not params or collector.source.one_line_suite(node.body):
        return None
    first = params[0].arg
    inner: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    returned: list[ast.expr] = []
    pending: list[ast.stmt] = list(node.body)
    while pending:
        statement = pending.pop(0)
        if isinstance(statement, FUNCTIONS):
            inner[statement.name] = statement
        elif type(statement) is ast.Return and statement.value is not None:
            returned.append(statement.value)
        elif type(statement) is ast.If:
            pending.extend([*statement.body, *statement.orelse])
    for value in returned:
        if type(value) is ast.Call and type(value.func) is ast.Call and (value.args or value.keywords):
            value = argument_value(syntax.call_arguments(value)[0])
        wrapper = inner.get(name_of(value) or "")
        if wrapper is None:
            continue
        if type(wrapper) is ast.AsyncFunctionDef and _wrapper_calls(wrapper, first) is not None:
            return wrapper, first
        if type(wrapper) is ast.FunctionDef and _wrapper_calls(wrapper, first) is None:
            found = _loop_wrapper_node(collector, wrapper)
            if found is not None:
                return found
    return None


_BRANCHES = (ast.If, ast.Try, ast.TryStar, ast.ExceptHandler, ast.For, ast.AsyncFor, ast.While, ast.Match,
             ast.IfExp, ast.BoolOp)
_TARGETS = (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.NamedExpr)


def _bound_names(target: ast.expr) -> set[str]:
    """The names an assignment target binds: `a`, `a, *b`; none for `admin_app.state.x = ...` or
    `CACHE[k] = ...`, which store into what a name already holds (a module-level application
    stays the module's)."""
    if type(target) is ast.Name:
        return {target.id}
    if type(target) in (ast.Tuple, ast.List):
        return {name for element in target.elts for name in _bound_names(element)}  # type: ignore[attr-defined]
    if type(target) is ast.Starred:
        return _bound_names(target.value)
    return set()


def _locals_and_calls(
    node: ast.FunctionDef | ast.AsyncFunctionDef, function: facts.Function
) -> tuple[frozenset[str], list[tuple[ast.Call, bool]]]:
    """The names a function body binds (its parameters too) and its calls, each with whether it
    runs only on some path."""
    local = {p.name for p in function.params}
    found: list[tuple[ast.Call, bool]] = []
    stack: list[tuple[ast.AST, bool]] = [(statement, False) for statement in reversed(node.body)]
    while stack:
        current, conditional = stack.pop()
        kind = type(current)
        if kind is ast.Assign:
            for target in current.targets:  # type: ignore[attr-defined]
                local.update(_bound_names(target))
        elif isinstance(current, _TARGETS):
            local.update(_bound_names(current.target))
        elif kind is ast.withitem and current.optional_vars is not None:  # type: ignore[attr-defined]
            local.update(_bound_names(current.optional_vars))  # type: ignore[attr-defined]
        elif kind is ast.ExceptHandler and current.name:  # type: ignore[attr-defined]
            local.add(current.name)  # type: ignore[attr-defined]
        elif kind is ast.alias and current.asname:  # type: ignore[attr-defined]
            local.add(current.asname)  # type: ignore[attr-defined]
        elif kind is ast.Call:
            found.append((current, conditional))  # type: ignore[arg-type]
        branching = isinstance(current, _BRANCHES)
        stack.extend((child, conditional or branching) for child in reversed(list(syntax.children(current))))
    return frozenset(local), found


def _engine_calls(collector: Collector, node: ast.FunctionDef | ast.AsyncFunctionDef, function: facts.Function) -> None:
    """The engine constructions in a function body, with what is local to the function."""
    frozen, found = _locals_and_calls(node, function)
    for call, conditional in found:
        callee = collector.resolve(dotted(call.func), frozen)
        if callee not in ENGINE_CONSTRUCTORS:
            continue
        collector.facts.engines.append(
            facts.EngineCall(
                line=collector.source.line_of(call),
                callee=callee,
                args=collector.call_args(call, frozen),
                scope=function.key,
                conditional=conditional,
            )
        )


def _configure_calls(collector: Collector, node: ast.FunctionDef | ast.AsyncFunctionDef, function: facts.Function) -> None:
    """`SessionLocal.configure(bind=engine)` in an `init_db()` or lifespan function: where the
    sessionmaker gets its engine at startup."""
    frozen, found = _locals_and_calls(node, function)
    # `from db.base import engine as e` in the body (against an import cycle) names the module's engine
    frozen = frozen - collector.scope_imports.keys() - set(function.declared_globals)
    for call, _ in found:
        collector.configure(call, collector.source.line_of(call), frozen, function.key)


def greenlet_scopes(nodes: list[ast.AST], runs: list[ast.expr]) -> list[ast.AST]:
    """The lambdas and nested functions among `runs` (the callables handed to an awaited
    `run_sync`, not an offloader's `to_thread.run_sync`) that run on its worker greenlet only. A
    nested function counts only when its name is read nowhere but as such a callable: called
    directly as well, it runs off the greenlet too. `nodes`: the body's, nested scopes included."""
    given = {id(run) for run in runs}
    scopes: list[ast.AST] = [run for run in runs if type(run) is ast.Lambda]
    for name in dict.fromkeys(run.id for run in runs if type(run) is ast.Name):
        defs = [n for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
        # any other use (called, stored, rebound) may run it off the greenlet
        if len(defs) == 1 and all(id(n) in given for n in nodes if type(n) is ast.Name and n.id == name):
            scopes.append(defs[0])
    return scopes


def _greenlet_lines(
    nodes: list[ast.AST], runs: list[ast.expr], scopes: list[ast.AST], line_of: Callable[[ast.AST], int]
) -> tuple[int, ...]:
    """`facts.Function.greenlet_lines`: the lines of the `greenlet_scopes` on which no attribute is
    read outside them. Lines, since the reads are kept by line: one shared with code outside is not one."""
    given = {id(run) for run in runs}
    inside: set[int] = set()
    within: set[int] = set()
    for scope in scopes:
        for node in ast.walk(scope):
            if type(node) is ast.Attribute:
                within.add(id(node))
                inside.add(line_of(node))
    # `db.run_sync` itself reads nothing of an object
    within.update(id(n.func) for n in nodes if type(n) is ast.Call and n.args and id(n.args[0]) in given)
    # the line a read is kept at starts its text, maybe at a parenthesis a line above
    outside = {
        line for node in nodes
        if type(node) is ast.Attribute and id(node) not in within for line in (node.lineno, line_of(node))
    }
    return tuple(sorted(inside - outside))


def _args(items: list[ast.AST]) -> list[facts.Arg]:
    """Call arguments as facts: positions count the positional arguments only; stars are skipped."""
    found = []
    position = 0
    for item in items:
        if type(item) is ast.Starred or (type(item) is ast.keyword and item.arg is None):
            continue
        value = argument_value(item)
        name = name_of(value)
        ref = dotted(value)
        if type(item) is ast.keyword:
            found.append(facts.Arg(None, item.arg, name, ref))
        else:
            found.append(facts.Arg(position, None, name, ref))
            position += 1
    return found


def _renders(func: ast.Attribute) -> bool:
    """`templates.TemplateResponse(...)` (Starlette's, FastAPI's `Jinja2Templates`), and a Jinja2
    template's `render`/`generate`/`stream` on one got in place (`env.get_template("x").render(...)`)
    or held by a name saying it is one (`template.render(...)`, `page_template.render(...)`)."""
    if func.attr == "TemplateResponse":
        return True
    value = func.value
    if type(value) is ast.Call and type(value.func) is ast.Attribute:
        return value.func.attr in TEMPLATE_GETTERS
    held = name_of(value) if type(value) is ast.Name else (value.attr if type(value) is ast.Attribute else None)
    return held is not None and "template" in held.lower()


def _rendered(source: syntax.Source, node: ast.Call) -> tuple[str, ...]:
    """What a template render is handed, as written: each value of a dict display, every other
    argument whole; string constants and the response's keywords left out."""
    values: list[ast.expr] = [a.value if type(a) is ast.Starred else a for a in node.args]
    values.extend(k.value for k in node.keywords if k.arg not in RESPONSE_KEYWORDS)
    found: list[str] = []
    for value in values:
        items = [v for v in value.values if v is not None] if type(value) is ast.Dict else [value]
        found.extend(
            syntax.text(source, item) for item in items
            if not (type(item) is ast.Constant and type(item.value) in (str, int, float, bool, type(None)))
        )
    return tuple(dict.fromkeys(found))


def _contained(items: list[ast.AST]) -> tuple[str, ...]:
    """Bare names that are items of a display given as an argument (`args=(db, 1)`, `[db]`,
    `{"session": db}`): what a call receives inside a container rather than as itself."""
    found: list[str] = []
    for item in items:
        value = argument_value(item)
        if type(value) in (ast.Tuple, ast.List, ast.Set):
            elements = value.elts  # type: ignore[attr-defined]
        elif type(value) is ast.Dict:
            elements = value.values
        else:
            continue
        found.extend(e.id for e in elements if type(e) is ast.Name)
    return tuple(dict.fromkeys(found))


def _written_args(call: ast.Call) -> list[ast.AST]:
    """The arguments that are neither `*x` nor `**x`, in the order written."""
    written: list[ast.AST] = [a for a in call.args if type(a) is not ast.Starred]
    return written + [k for k in call.keywords if k.arg is not None]


def _query_chain_root(node: ast.Call) -> ast.Call | None:
    """The `X.query(...)` call at the bottom of a method chain on a bare name or a path on one
    (`self.db.query(...)`: a Session an instance holds, phase two's to judge), if any."""
    current: ast.expr = node
    while type(current) is ast.Call and type(current.func) is ast.Attribute:
        value = current.func.value
        if current.func.attr == "query" and dotted(value) is not None:
            return current
        current = value
    return None


def _entered_by_hand(value: ast.expr) -> tuple[ast.expr, bool] | None:
    """What a context manager entered without a `with` statement holds, and whether it is entered
    asynchronously: `X.__enter__()` and `stack.enter_context(X)` bind what `with X as name` would
    (`await X.__aenter__()`, `await stack.enter_async_context(X)`: `async with`). None otherwise."""
    asynchronous = type(value) is ast.Await
    call = value.value if asynchronous else value  # type: ignore[attr-defined]
    if type(call) is not ast.Call or type(call.func) is not ast.Attribute or call.keywords:
        return None
    method = call.func.attr
    if method == ("__aenter__" if asynchronous else "__enter__") and not call.args:
        return call.func.value, asynchronous
    wanted = "enter_async_context" if asynchronous else "enter_context"
    if method == wanted and len(call.args) == 1 and type(call.args[0]) is not ast.Starred:
        return call.args[0], asynchronous
    return None


# Builtins that only iterate their one argument: a legacy Query given to them is run as a whole.
_ITERATING_BUILTINS = frozenset({"list", "tuple", "set", "frozenset", "sorted"})
_BY_NAME = frozenset({"getattr", "setattr"})
# Where `await call` stands as the call did: the operands of these, read whole (`Call.in_place`).
_IN_PLACE_OPERANDS = frozenset({
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Tuple, ast.List, ast.Set, ast.Starred,
    ast.JoinedStr, ast.FormattedValue,
})
# Builtins iterating their first argument (each after the first, for zip, map and filter) with
# `iter()`: an async iterable raises there.
_SYNC_ITERATING = _ITERATING_BUILTINS | {"dict", "enumerate", "zip", "sum", "min", "max", "any", "all", "iter",
                                         "reversed", "map", "filter"}


def _begin_receiver(expression: ast.expr) -> str | None:
    """`s.begin()`, `s.begin_nested()`: `s`; anything else: None."""
    if (
        type(expression) is ast.Call and type(expression.func) is ast.Attribute
        and expression.func.attr in ("begin", "begin_nested") and type(expression.func.value) is ast.Name
    ):
        return expression.func.value.id
    return None


def _shared_begins(items: list[ast.withitem], line_of: Callable[[ast.AST], int]) -> tuple[int, ...]:
    """The lines of the `s.begin()`/`s.begin_nested()` items of a `with` statement that also enters a
    context manager no `async with` takes on an AsyncSession (`with db.begin(), db.no_autoflush:`);
    a Session the statement opens for them (`with Session(engine) as s, s.begin():`) is judged as an
    opening (`_alone`)."""
    begun = {name for item in items if (name := _begin_receiver(item.context_expr)) is not None}
    if not begun:
        return ()
    foreign = any(
        _begin_receiver(item.context_expr) is None
        and not (type(item.optional_vars) is ast.Name and item.optional_vars.id in begun)
        for item in items
    )
    if not foreign:
        return ()
    return tuple(line_of(item.context_expr) for item in items if _begin_receiver(item.context_expr) is not None)


def _alone(items: list[ast.withitem], item: ast.withitem, name: str) -> bool:
    """Whether `item` (binding `name`) is all its `with` statement enters, but for a transaction
    begun on that very Session after it (`with Session(engine) as s, s.begin():`), which
    `async with` enters alike on an AsyncSession."""
    after = False
    for other in items:
        if other is item:
            after = True
            continue
        expression = other.context_expr
        if not (
            after and type(expression) is ast.Call and type(expression.func) is ast.Attribute
            and expression.func.attr in ("begin", "begin_nested") and type(expression.func.value) is ast.Name
            and expression.func.value.id == name
        ):
            return False
    return True


class BodyScanner:
    """Walks one function body: calls, awaits, yields, uses of parameters, opened sessions."""

    def __init__(self, collector: Collector, function: facts.Function, params: frozenset[str]):
        self.collector = collector
        self.source = collector.source
        self.function = function
        self.params = params
        self.locals: set[str] = set(params)
        # `global db` in this body: `db` is the module's name even where the body assigns it
        # (`db = SessionLocal()` resetting a module-level Session), never a local of its own.
        self.declared_global: set[str] = set()
        self.tracked: set[str] = set(params)
        # ids of the calls entered by hand whose Session an assignment names
        # (`db = stack.enter_context(SessionLocal())`): opened under that name, not as an argument
        self.entered_by_hand: set[int] = set()
        self.raw_calls: list[tuple[facts.Call, ast.expr]] = []
        self.offloaded: set[int] = set()
        self.unwrapped: set[int] = set()  # id of the one call a lambda dropping its offloader leaves (`Call.unwrap`)
        self.offloaded_lambdas: dict[int, int] = {}  # id of a call in an offloaded lambda -> the offloading call
        self.coroutine_sides: dict[int, bool] = {}  # call id -> under `iscoroutinefunction(f)` or not
        self.offloaded_names: set[int] = set()  # ids of the bare names an offloading call runs
        # `await x.run_sync(fn)`: ids of the calls in a lambda given to it, names of the nested
        # functions given to it, and the nested functions around each call (by its index).
        self.greenlet_calls: set[int] = set()
        self.greenlet_defs: set[str] = set()
        self.greenlet_runs: list[ast.expr] = []  # the callables given, as written
        self.greenlet_scopes: list[ast.AST] = []  # of those, what runs on the greenlet only (`greenlet_scopes`)
        self.defs: list[str] = []
        self.call_defs: dict[int, tuple[str, ...]] = {}
        self.awaited: set[int] = set()
        self.statements: set[int] = set()
        self.discarded: set[int] = set()  # calls that are a whole expression statement
        self.top: set[int] = set()  # calls that are whole statements of the own body's top level
        self.conditions: set[int] = set()  # calls whose value only an if/while/assert test reads
        self.in_place: set[int] = set()  # calls an `await` can wrap where they stand (`Call.in_place`)
        self.argument_of: dict[int, int] = {}  # id of a call passed as an argument -> the outer call's index
        self.receiver_of: dict[int, int] = {}  # id of a call whose result a method is called on -> that call's index
        self.argument_at: dict[int, int | str] = {}  # and its position or keyword there
        self.displayed_in: dict[int, int] = {}  # id of a call an argument's display holds -> the outer call's index
        self.call_count = 0
        # Lazy-load facts, kept raw until the walk knows every local name.
        self.callees: set[int] = set()  # ids of call targets: `session.get` is not an attribute read
        self.raw_attributes: list[tuple[int, str, str]] = []
        self.raw_stores: list[tuple[int, str, str]] = []
        self.augmented: set[int] = set()  # ids of the targets of augmented assignments
        self.raw_updates: list[tuple[int, str, str]] = []
        self.raw_writes: list[tuple[int, ast.expr, str]] = []  # `Function.writes`, unspelled
        self.raw_receiver_reads: list[tuple[int, ast.expr, str]] = []  # `Function.receiver_reads`, unspelled
        self.raw_loaders: list[tuple[str | None, ast.Call]] = []  # (callee as written, call)
        self.raw_narrowing: list[tuple[str | None, str, ast.Call]] = []  # (callee as written, option, call)
        self.generators = 0
        # One entry per generator expression around the node (not while its first iterable is read):
        # whether an `async for` or async comprehension iterates it (ids in `async_sources`).
        self.generator_scopes: list[bool] = []
        self.async_sources: set[int] = set()
        self.coroutines: list[str] = []  # the nested `async def`s around the node being read
        self.chain_inner: set[int] = set()
        self.query_chains: dict[int, str] = {}  # id of a chain's `X.query(...)` call -> the chain
        # Expressions only iterated: a `for` or comprehension source, the one argument of list().
        self.iterated: set[int] = set()
        self.iterated_chains: set[int] = set()  # ids of the `X.query(...)` calls of such chains
        self.sync_iterated: list[ast.expr] = []  # `Function.sync_iterated`, unspelled
        # Module-level names used as values, not called: `add_task(crud.add_user, ...)`,
        # `{"a": handler}`. A function referenced like this has callers the call graph misses.
        self.module_level = collector.module_level
        self.raw_references: list[str] = []
        # Those not in a place FastAPI takes a function itself (`Collector.takes`), and
        # the ids of the names in such places: (as written, line).
        self.raw_escapes: list[tuple[str, int]] = []
        self.benign: set[int] = set()
        # Value flow, kept raw until the walk knows every local name.
        self.raw_bindings: list[tuple[facts.Binding, ast.expr]] = []
        self.raw_displays: list[tuple[str, ast.expr]] = []
        self.raw_unpacked: list[tuple[str, ast.expr]] = []
        self.raw_assigns: list[tuple[str, ast.expr]] = []
        self.assign_lines: list[int] = []  # of each of `raw_assigns`
        self.raw_attribute_stores: list[tuple[int, ast.expr, str, ast.expr]] = []
        self.raw_item_puts: list[tuple[ast.expr, ast.expr]] = []  # `ROOMS[name] = Room()`
        self.raw_state_assigns: list[tuple[int, ast.expr, str, ast.expr | None]] = []
        # Local names bound to `TypeAdapter(T)` -> the references in T (`Call.adapted`).
        self.adapters: dict[str, tuple[str, ...]] = {}
        self.raw_returned: list[ast.expr] = []
        self.returned_written: dict[int, str] = {}  # id of a returned value -> how `returned` spells it
        self.raw_yielded: list[ast.expr] = []
        self.raw_yielded_from: list[ast.expr] = []
        self.raw_args: list[tuple[facts.Arg, ast.expr]] = []
        self.raw_displayed: list[tuple[facts.Arg, ast.expr]] = []
        self.raw_entered: list[tuple[ast.expr, int, bool]] = []
        self.raw_locked: list[tuple[ast.expr, int, int]] = []  # `with x:` on a name or attribute
        self.built: set[str] = set()  # `name = Callee(...)` in the own body: what fresh_reads follows
        self.read_names: set[str] = set()  # `name` of every `name.attr`, nested scopes included
        # Names a comprehension, lambda or nested function binds, for the code inside it: there
        # they are not the module-level names they may spell. The ids of the calls read there.
        self.inner: frozenset[str] = frozenset()
        self.scoped: dict[int, frozenset[str]] = {}
        # Calls of a value taken out of a container (`codemods.astcollect.dispatch`): the local
        # names bound to one (`for fn in TABLE`, `fn = TABLE[kind]`) -> where each comes from as
        # written (a container's dotted name, `=name` for an inline display's, UNREAD), the calls.
        self.taken: dict[str, list[str]] = {}
        # Loops binding names to a container's values, no other binding of them in their bodies:
        # (first line, last line of the body, the names, what they take) (`_dispatch`).
        self.loops: list[tuple[int, int, set[str], list[str]]] = []
        # Of the names in `taken`, whether each is only ever bound by a pop (`job, kw = QUEUE.popleft()`).
        self.popped: dict[str, bool] = {}
        self.raw_dispatch: list[tuple[facts.Call, list[str]]] = []
        self.named_calls: list[tuple[facts.Call, str]] = []
        # names the body changes in place (`TABLE["x"] = f`), and whether only with `dispatch.inert` values
        self.raw_changed: list[tuple[str, bool]] = []
        # `hooks = TABLE`: a local name for a (module-level) object, as written; changing it in
        # place changes the object
        self.aliases: dict[str, list[str]] = {}
        # `signals.WAKEUP = asyncio.Event()`: (the target, the callee), as written
        self.raw_rebound: list[tuple[str, str]] = []
        # Calls given execution options in a form other than `execution_options(key=...)`.
        self.raw_options: list[tuple[facts.Call, ast.Call]] = []
        # `refresh(obj, attribute_names=[...])`, `obj.awaitable_attrs.rel`: (the node, the object's
        # name or "", the attribute), for `Function.refreshed` once the body is read
        self.raw_refreshed: list[tuple[ast.AST, str, str]] = []

    def scan(self, body: list[ast.stmt], writes: list[Any]) -> None:
        """Read `body`; `writes`: its `objects.OwnNodes.writes`."""
        for statement in body:
            self._visit(statement, False)
        if self.greenlet_defs:  # a nested function handed to `await x.run_sync(fn)`, defined before it
            for call in self.function.calls:
                if self.greenlet_defs.intersection(self.call_defs.get(call.index, ())):
                    call.greenlet = True
        if self.greenlet_runs:
            nodes = [node for statement in body for node in ast.walk(statement)]
            self.greenlet_scopes = greenlet_scopes(nodes, self.greenlet_runs)
            self.function.greenlet_lines = _greenlet_lines(nodes, self.greenlet_runs, self.greenlet_scopes,
                                                           self.source.line_of)
        self._streamed_generators(body)
        if self.offloaded_names and self.call_defs:
            self._offloaded_defs(body)
        self._lazy_facts()
        if self.raw_refreshed:
            self._refreshed(body)
        # Only a name both built and read as `name.attr` can have a fresh read.
        self.function.fresh = fresh_reads(body, self.source.line_of, self.built & self.read_names)
        if self.declared_global:
            self.function.global_updates = global_updates(writes, self.declared_global)
            self.function.declared_globals = tuple(sorted(self.declared_global))
        local = frozenset(self.locals - self.declared_global)
        resolve = self.collector.resolve
        expression = self.collector.expression
        scoped = self.scoped
        for call, node in self.raw_options:
            here = local | scoped[id(call)] if id(call) in scoped else local
            call.streams = streamed_option(node, self.collector.constant, here)
        if self.sync_iterated:
            self.function.sync_iterated = tuple(
                (self.source.line_of(node), spelled) for node in self.sync_iterated
                if (spelled := expression(node, local, awaits=True)) is not None
            )
        for call, func in self.raw_calls:
            here = local | scoped[id(call)] if id(call) in scoped else local
            written = dotted(func)
            if written is None and type(func) is ast.Subscript and self.collector._parametrised_class(func):
                written = dotted(func.value)  # `Page[Out](items=rows)` builds a Page
            call.callee = resolve(written, here)
            if written is None and type(func) is ast.Attribute:
                # `import_module("app.crud").add(db)` runs app.crud.add like `crud.add(db)` does.
                call.callee = module_attribute(func, partial(self.collector.ref, local=here))
            if call.callee is None:
                call.func = expression(func, here)
                if call.func is None and type(func) is ast.Attribute and type(func.value) is ast.Subscript:
                    container = expression(func.value.value, here) or facts.UNSPELLED
                    call.item = (container, func.attr)
                elif call.func is None and type(func) is ast.Attribute:
                    call.through_await = expression(func, here, awaits=True)
                if call.func is None and type(func) is ast.Attribute:
                    call.subscripted = loop_holders.subscripted(func, partial(expression, local=here))
                    if not (call.subscripted or call.item or call.through_await):
                        call.unspelled_method = func.attr
            for arg in call.args:
                if arg.ref is not None:
                    arg.ref = resolve(arg.ref, here)
        self._dispatch(local, body)
        references = self.collector.facts.references
        # Each name once: the same name resolves alike, and only its first place in the list counts.
        read: list[str] = []
        for written in dict.fromkeys(self.raw_references):
            resolved = resolve(written, local)
            if resolved is not None:
                read.append(resolved)
                if resolved not in references:
                    references.append(resolved)
        self.function.module_reads = tuple(read)
        escapes = self.collector.facts.escapes
        for written, line in self.raw_escapes:
            resolved = resolve(written, local)
            if resolved is not None:
                escapes.append((resolved, line, written))
        for arg, value in self.raw_args:
            found = expression(value, local)
            # a module-rooted call (`app.db.current_session()`) is read as a local one is; a
            # module-level attribute is the argument's `ref`
            if found is not None and (found.startswith("$") or found.endswith("()")):
                arg.expr = found
            elif found is not None and found.rpartition(".")[0].endswith("()") and "(" not in found.partition("()")[2]:
                arg.returned_attribute = found
        for arg, value in self.raw_displayed:
            found = expression(value, local)
            if found is not None and found.startswith("$") and found not in arg.displayed:
                arg.displayed = (*arg.displayed, found)
        for value, line, asynchronous in self.raw_entered:
            found = expression(value, local)
            if found is not None:
                self.function.entered.append((found, line, asynchronous))
        self._implicit(body, local)
        for value, start, end in self.raw_locked:
            found = expression(value, local)
            if found is not None and end < 0:  # `async with`: an asyncio lock, held across awaits
                self.function.async_locked.append((found, start, -end))
            elif found is not None:
                self.function.locked.append((found, start, end))
        self.function.free_updates = free_updates(writes, local)
        self.function.bound_updates = bound_updates(writes, local)
        self.function.derived_stores = derived_stores(writes, local)
        self.function.column_stores = column_stores(writes, local)
        self.function.free_writes = free_writes(writes, local)
        if _may_change_in_place(writes, self.declared_global):
            params = self.function.params
            first = params[0].name if params and params[0].positional else None
            self.function.check_then_act = check_then_act.accesses(body, frozenset(self.declared_global), local, first)
        for binding, value in self.raw_bindings:
            found = expression(value, local)
            path = loop_holders.subscripted_value(value, partial(expression, local=local)) if found is None else ()
            if path and not binding.entered and (len(path) > 2 or path[-1]):
                # `inner = hub.OUTERS[k].inner`, `q = hub.ROOMS[a][b]`: the path `items` cannot spell
                self.function.item_paths.setdefault(binding.name, []).append(path)
            if found is None and not binding.entered and type(value) is ast.Subscript:
                self.function.items[binding.name] = expression(value.value, local) or facts.UNSPELLED
                continue
            if found is None and binding.entered:
                found = facts.UNSPELLED
            if found is not None:
                binding.expr = found
                binding.line = self.source.line_of(value)
                self.function.bindings.append(binding)
        for name, display in self.raw_displays:
            held = self.function.displays.setdefault(name, [])
            if isinstance(display, ast.Dict):
                # `{**base}`: a key of None unpacks what the notation cannot list
                pairs: list[tuple[object, ast.expr]] = list(zip(display.keys, display.values))
            else:
                pairs = [(True, element) for element in display.elts]  # type: ignore[attr-defined]
            for key, element in pairs:
                shown = None if key is None or type(element) is ast.Starred else expression(element, local)
                held.append(facts.UNSPELLED if shown is None else shown)
        for name, value in self.raw_unpacked:
            found = expression(value, local)
            if found is not None:
                self.function.unpacked.setdefault(name, []).append(found)
        lines: list[int] = []
        for (attribute, value), line in zip(self.raw_assigns, self.assign_lines, strict=True):
            found = expression(value, local)
            if found is not None:
                self.function.assigns.append((attribute, found))
                lines.append(line)
        if lines:
            self.function.assign_lines = tuple(lines)
        puts = [
            (into, put)
            for held, value in self.raw_item_puts
            if (into := expression(held, local)) is not None and not into.startswith("$")
            and (put := expression(value, local)) is not None
        ]
        if puts:
            self.function.item_puts = tuple(puts)
        for line, receiver, attribute, value in self.raw_attribute_stores:
            found = expression(value, local)
            root = expression(_store_root(receiver), local)
            if found is not None and root is not None:
                spelled = expression(receiver, local) or facts.UNSPELLED
                self.function.attribute_stores.append((line, spelled, attribute, found, root))
        for line, receiver, attribute in self.raw_writes:
            spelled = expression(receiver, local)
            if spelled is not None:
                self.function.writes.append((line, spelled, attribute))
        if self.raw_receiver_reads:
            self._receiver_reads(local)
        for line, head, attribute, assigned in self.raw_state_assigns:
            spelled = expression(assigned, local) if assigned is not None else None
            self.function.state_assigns.append(
                (line, expression(head, local) or facts.UNSPELLED, attribute, spelled or facts.UNSPELLED)
            )
        returned_items: list[str] = []
        for value in self.raw_returned:
            found = expression(value, local)
            if found is not None:
                self.returned_written[id(value)] = found
            elif type(value) is ast.Subscript and (subscripted := expression(value.value, local)) is not None:
                returned_items.append(subscripted)
        self.function.returned_items = tuple(returned_items)
        self.function.returned = tuple(self.returned_written.values())
        self.function.forwards = self._forwards(local)
        self.function.yielded = tuple(
            found for found in (expression(value, local) for value in self.raw_yielded) if found is not None
        )
        self.function.yielded_from = tuple(
            found for found in (expression(value, local) for value in self.raw_yielded_from) if found is not None
        )
        # Uses of names bound to sessions opened here count as uses too.
        self.function.name_uses = {
            name: lines for name, lines in self.function.name_uses.items() if name in self.tracked
        }

    # The walk keeps an explicit "nested" flag: awaits and yields only count in
    # the function's own body, while calls and name uses count everywhere.
    def _visit(self, node: ast.AST, nested: bool) -> None:
        kind = type(node)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            for decorator in node.decorator_list:  # type: ignore[attr-defined]
                self._visit(decorator, nested)
            self._parameters(node.args, nested)  # type: ignore[attr-defined]
            if node.returns is not None:  # type: ignore[attr-defined]
                self._visit(node.returns, nested)  # type: ignore[attr-defined]
            coroutine = kind is ast.AsyncFunctionDef
            if coroutine:
                self.coroutines.append(node.name)  # type: ignore[attr-defined]
            outer = self._enter(_parameter_names(node.args))  # type: ignore[attr-defined]
            self.defs.append(node.name)  # type: ignore[attr-defined]
            for statement in node.body:  # type: ignore[attr-defined]
                self._visit(statement, True)
            self.defs.pop()
            self.inner = outer
            if coroutine:
                self.coroutines.pop()
            return
        if kind is ast.Lambda:
            self._parameters(node.args, nested)  # type: ignore[attr-defined]
            outer = self._enter(_parameter_names(node.args))  # type: ignore[attr-defined]
            self._visit(node.body, True)  # type: ignore[attr-defined]
            self.inner = outer
            return
        if kind is ast.ClassDef:
            for decorator in node.decorator_list:  # type: ignore[attr-defined]
                self._visit(decorator, True)
            self._name(node.name, node.lineno, True)  # type: ignore[attr-defined]
            for child in [*node.bases, *node.keywords, *node.body]:  # type: ignore[attr-defined]
                self._visit(child, True)
            return
        handler = _HANDLERS.get(kind)
        if handler is not None and handler(self, node, nested) is False:  # type: ignore[operator]
            return
        kids: Iterable[ast.AST]
        if kind is ast.Call:  # `syntax.children` of the commonest node, inlined
            call: Any = node
            kids = [call.func, *call.args] if not call.keywords else [call.func, *syntax.call_arguments(call)]
        elif kind in syntax.IN_SOURCE_ORDER:
            kids = syntax.IN_SOURCE_ORDER[kind](node)  # type: ignore[operator]
        else:
            # `syntax.field_children`, its fields read in place rather than gathered in a list
            fields = syntax.CODE_FIELDS.get(kind)
            if fields is None:
                fields = syntax.code_fields(kind)
            for field in fields:
                value = getattr(node, field, None)
                if type(value) is list:
                    for child in value:
                        child_kind = type(child)
                        if child_kind is ast.Constant:
                            continue
                        if child_kind is ast.Name:
                            self._on_name(child, nested)
                        elif isinstance(child, ast.AST):
                            self._visit(child, nested)
                elif isinstance(value, ast.AST):
                    child_kind = type(value)
                    if child_kind is ast.Constant:
                        continue
                    if child_kind is ast.Name:
                        self._on_name(value, nested)  # type: ignore[arg-type]
                    else:
                        self._visit(value, nested)
            return
        for child in kids:
            # The two commonest leaves without a call: a constant holds no code, a name is `_on_name`.
            child_kind = type(child)
            if child_kind is ast.Constant:
                continue
            if child_kind is ast.Name:
                self._on_name(child, nested)  # type: ignore[arg-type]
                continue
            self._visit(child, nested)

    def _offloaded_defs(self, body: list[ast.stmt]) -> None:
        """Mark offloaded the calls inside a nested plain function the body uses only as what an
        offloading call runs (`await asyncio.to_thread(one, name)`, `run_in_threadpool(one)`):
        they run in a worker thread, as a lambda's body handed there does, not on the loop."""
        candidates = {node.name for node in _defined_once(body) if type(node) is ast.FunctionDef}
        uses: dict[str, int] = {}
        offloaded: dict[str, int] = {}
        for statement in body:
            for item in ast.walk(statement):
                if isinstance(item, ast.Name) and item.id in candidates:
                    uses[item.id] = uses.get(item.id, 0) + 1
                    if id(item) in self.offloaded_names:
                        offloaded[item.id] = offloaded.get(item.id, 0) + 1
        names = {name for name, count in offloaded.items() if uses.get(name) == count}
        for call in self.function.calls:
            found = names.intersection(self.call_defs.get(call.index, ()))
            if found:
                call.offloaded = True
                call.thread_def = min(found)

    def _streamed_generators(self, body: list[ast.stmt]) -> None:
        """Mark the calls inside a nested generator that only a `StreamingResponse` runs
        (`return StreamingResponse(rows())`): they run after the function returned (`late`), and a
        plain generator's in the threadpool, not where they are written (`streamed`)."""
        if not self.call_defs:
            return  # no call inside a nested function: none to mark
        candidates = {node.name: type(node) is ast.FunctionDef for node in _defined_once(body) if _yields(node)}
        if not candidates:
            return
        local = frozenset(self.locals)
        uses: dict[str, int] = {}
        streamed: dict[str, int] = {}
        for statement in body:
            for item in ast.walk(statement):
                if isinstance(item, ast.Name) and item.id in candidates:
                    uses[item.id] = uses.get(item.id, 0) + 1
                elif isinstance(item, ast.Call) and self.collector.resolve(dotted(item.func), local) in STREAMING_RESPONSE:
                    content = argument(item, 0, "content")
                    if isinstance(content, ast.Call) and isinstance(content.func, ast.Name):
                        if content.func.id in candidates:
                            streamed[content.func.id] = streamed.get(content.func.id, 0) + 1
        names = {name for name, count in streamed.items() if uses.get(name) == count}
        if not names:
            return
        for call in self.function.calls:
            inside = self.call_defs.get(call.index, ())
            if inside and inside[-1] in names:
                call.late = True
                call.streamed = candidates[inside[-1]] and call.coroutine is None

    def _enter(self, names: set[str] | frozenset[str]) -> frozenset[str]:
        """Read what follows inside a scope binding `names`; returns the scope to restore."""
        outer = self.inner
        if names:
            self.inner = outer | names
        return outer

    def _parameters(self, args: ast.arguments, nested: bool) -> None:
        for param, default in syntax.parameters(args):
            self._name(param.arg, param.lineno, nested)
            if param.annotation is not None:
                self._visit(param.annotation, nested)
            if default is not None:
                if type(default) is ast.Name:
                    self.function.scope_defaults.append((param.lineno, param.arg, default.id))
                self._visit(default, nested)

    def _name(self, name: str, line: int, nested: bool, node: int = 0) -> None:
        if name in self.params or name in self.tracked:
            self.function.name_uses.setdefault(name, []).append(line)
        elif node not in self.callees and name in self.module_level:
            self.raw_references.append(name)

    def _on_name(self, node: ast.Name, nested: bool) -> bool:
        # `_name` inlined: the line is only worked out for the uses it records (most names are not).
        name = node.id
        if name in self.params or name in self.tracked:
            self.function.name_uses.setdefault(name, []).append(self.source.line_of(node))
        elif id(node) not in self.callees and name in self.module_level and name not in self.inner:
            self.raw_references.append(name)
            if id(node) not in self.benign:
                self.raw_escapes.append((name, self.source.line_of(node)))
        return False

    def _on_attribute(self, node: ast.Attribute, nested: bool) -> bool:
        if type(node.value) is ast.Name:
            self.read_names.add(node.value.id)
        self._attribute(node, nested)
        if id(node) not in self.callees:
            head = node.value
            while type(head) is ast.Attribute:
                head = head.value
            if type(head) is ast.Name and head.id in self.module_level:
                written = dotted(node)
                if written is not None:
                    self.raw_references.append(written)
                    if id(node) not in self.benign and head.id not in self.inner:
                        self.raw_escapes.append((written, self.source.line_of(node)))
        elif type(node.value) is ast.Name:
            # `Service.normalize(x)`: a call of the attribute; the object it is read from is
            # no value handed on (an attribute read, `f.__wrapped__`, is one: recorded above).
            self.benign.add(id(node.value))
        self._visit(node.value, nested)
        return False

    def _dotted_name(self, written: str, line: int, nested: bool) -> None:
        """A dotted name an import statement writes: read as the attribute chain it spells."""
        parts = written.split(".")
        for end in range(len(parts), 1, -1):
            if end == 2:
                self.raw_attributes.append((line, parts[0], parts[1]))
            elif parts[end - 2] == "awaitable_attrs":
                self.function.refreshed.append((line, "", parts[end - 1]))
            if parts[0] in self.module_level:
                self.raw_references.append(".".join(parts[:end]))
        self._name(parts[0], line, nested)

    def _on_import(self, node: ast.Import, nested: bool) -> bool:
        self.collector.scope_imports.update(self.collector.imported(node))
        for alias in node.names:
            self._dotted_name(alias.name, alias.lineno, nested)
            if alias.asname is not None:
                self._name(alias.asname, alias.lineno, nested)
        return False

    def _on_import_from(self, node: ast.ImportFrom, nested: bool) -> bool:
        self.collector.scope_imports.update(self.collector.imported(node))
        # `from models.task import Task` binds `Task` only: `models` is neither read nor given
        # an attribute (a local name `models`, or a Session called `db` beside
        # `from db.engine import ...`, is not used by it).
        parts = node.module.split(".") if node.module is not None else []
        if parts and parts[0] in self.module_level:
            self.raw_references.extend(".".join(parts[:end]) for end in range(len(parts), 1, -1))
        for alias in node.names:
            if alias.name != "*":
                self._name(alias.name, alias.lineno, nested)
            if alias.asname is not None:
                self._name(alias.asname, alias.lineno, nested)
        return False

    def _on_global(self, node: ast.Global | ast.Nonlocal, nested: bool) -> bool:
        for name in node.names:
            self._name(name, node.lineno, nested)
            if type(node) is ast.Global:  # declared to be bound here: its display is not all
                self.collector.changed(name)
                if not nested:
                    self.declared_global.add(name)
        return False

    def _on_except(self, node: ast.ExceptHandler, nested: bool) -> bool:
        if node.type is not None:
            self._visit(node.type, nested)
        if node.name is not None:
            self._name(node.name, node.type.end_lineno if node.type is not None else node.lineno, nested)  # type: ignore[arg-type]
            self.locals.add(node.name)
        for statement in node.body:
            self._visit(statement, nested)
        return False

    def _on_match_as(self, node: ast.MatchAs | ast.MatchStar, nested: bool) -> bool:
        pattern = getattr(node, "pattern", None)
        if pattern is not None:
            self._visit(pattern, nested)
        if node.name is not None:
            self._name(node.name, node.end_lineno or node.lineno, nested)
            self.locals.add(node.name)
        return False

    def _on_match_mapping(self, node: ast.MatchMapping, nested: bool) -> bool:
        for key, pattern in zip(node.keys, node.patterns):
            self._visit(key, nested)
            self._visit(pattern, nested)
        if node.rest is not None:
            self._name(node.rest, node.end_lineno or node.lineno, nested)
            self.locals.add(node.rest)
        return False

    def _on_match_class(self, node: ast.MatchClass, nested: bool) -> bool:
        self._visit(node.cls, nested)
        for pattern in node.patterns:
            self._visit(pattern, nested)
        for name, pattern in zip(node.kwd_attrs, node.kwd_patterns):
            self._name(name, pattern.lineno, nested)
            self._visit(pattern, nested)
        return False

    def _on_keyword(self, node: ast.keyword, nested: bool) -> bool:
        self._visit(node.value, nested)
        return False

    def _on_await(self, node: ast.Await, nested: bool) -> None:
        if type(node.value) is ast.Call:
            self.awaited.add(id(node.value))
        if not nested:
            self._await(self.source.line_of(node), syntax.clipped(self.source.code(node)))

    def _implicit(self, body: list[ast.stmt], local: frozenset[str]) -> None:
        """`Function.implicit`: `for x in v`, `len(v)`, `if v:`, `v[k]`, `k in v` on a spelled value."""
        resolve = self.collector.resolve
        found: list[tuple[int, str, str]] = []
        for node, protocol in implicit.uses(body, lambda name: name not in local and resolve(name) == name):
            spelled = self.collector.expression(node, local)
            if spelled is not None:
                found.append((self.source.line_of(node), spelled, protocol))
        # `not posts or posts[0]`-like lines use one value twice: one call of the method
        self.function.implicit = tuple(dict.fromkeys(found))

    def _await(self, line: int, text: str) -> None:
        self.function.awaits.append((line, text))

    def _on_for(self, node: ast.For | ast.AsyncFor, nested: bool) -> None:
        self.iterated.add(id(node.iter))
        if type(node) is ast.For and not nested:
            self.sync_iterated.append(node.iter)
        self._held_in_display(node.iter, "looped over")
        if type(node) is ast.AsyncFor and not nested:
            self._await(self.source.line_of(node.target), "async for")
        if type(node) is ast.AsyncFor:
            self.async_sources.add(id(node.iter))
        self._bind(node.target)
        found = self._take(node.target, node.iter, loop=True)
        if found and node.body:
            names = free_names(node.target)
            rebound = {
                inner.id for statement in node.body for inner in ast.walk(statement)
                if type(inner) is ast.Name and type(inner.ctx) is not ast.Load
            }
            if not names & rebound:
                self.loops.append((node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno, names, found))
        self._unpacked(node.target, node.iter)

    def _on_async_with(self, node: ast.AsyncWith, nested: bool) -> None:
        if not nested:
            self._await(self.source.line_of(node.items[0].context_expr), "async with")
        for item in node.items:
            self._enters(item, True, nested)
            if not nested and type(item.context_expr) in (ast.Name, ast.Attribute):
                self.raw_locked.append((item.context_expr, node.lineno, -(node.end_lineno or node.lineno)))
            elif not nested and type(item.context_expr) is ast.Call and item.optional_vars is None:
                line = self.source.line_of(item.context_expr)
                self.function.async_built += ((line, node.end_lineno or node.lineno),)
            target = item.optional_vars
            if not nested and type(target) is ast.Name and type(item.context_expr) is ast.Call:
                callee = self.collector.resolve(dotted(item.context_expr.func), frozenset(self.locals - {target.id}))
                if callee is not None:
                    alone = _alone(node.items, item, target.id)
                    line = self.source.line_of(item.context_expr)
                    self.function.async_entered += ((target.id, callee, line, self.call_count, alone),)
            if type(target) is ast.Name:
                self._binding(target.id, item.context_expr, entered=True, asynchronous=True)
                self.raw_bindings[-1][0].end = node.end_lineno or node.lineno
                self.locals.add(target.id)
            elif target is not None:
                self._bind(target)

    def _enters(self, item: ast.withitem, asynchronous: bool, nested: bool) -> None:
        """`with uow:` on a value, or `with scope():` on a call bound to no name (`as` binds the
        others, which the flow enters): the statement runs its `__enter__` and `__exit__`."""
        kind = type(item.context_expr)
        if not nested and (kind in (ast.Name, ast.Attribute) or (kind is ast.Call and item.optional_vars is None)):
            self.raw_entered.append((item.context_expr, self.source.line_of(item.context_expr), asynchronous))

    def _on_try(self, node: ast.Try | ast.TryStar, nested: bool) -> None:
        if nested:
            return
        self._on_handlers(node)
        if not node.finalbody:
            return
        ran: list[ast.stmt | ast.excepthandler] = [*node.body, *node.handlers, *node.orelse]
        end = max(statement.end_lineno or statement.lineno for statement in ran)
        yields: bool | None = None
        for statement in node.finalbody:
            if type(statement) is not ast.Expr:
                continue
            value = statement.value.value if type(statement.value) is ast.Await else statement.value
            if type(value) is ast.Call:
                if yields is None:
                    yields = any(type(inner) in (ast.Yield, ast.YieldFrom) for inner in syntax.own_nodes(ran))  # type: ignore[arg-type]
                self.function.finally_calls += ((self.source.line_of(value), node.lineno, end, yields),)

    def _on_handlers(self, node: ast.Try | ast.TryStar) -> None:
        if not node.handlers or type(node) is ast.TryStar:
            return
        body_end = max(statement.end_lineno or statement.lineno for statement in node.body)
        first = node.handlers[0].lineno
        last = max(handler.end_lineno or handler.lineno for handler in node.handlers)
        ending = node.body[-1].lineno
        for handler in node.handlers:
            every = _catches_all(handler.type)
            for statement in handler.body:
                if type(statement) is not ast.Expr:
                    continue
                value = statement.value.value if type(statement.value) is ast.Await else statement.value
                if type(value) is not ast.Call:
                    continue
                line = self.source.line_of(value)
                self.function.caught_calls += ((line, ending, body_end, handler.end_lineno or handler.lineno),)
                if every:
                    self.function.except_calls += ((line, node.lineno, body_end, first, last),)

    def _on_with(self, node: ast.With, nested: bool) -> None:
        if not nested:
            end = node.end_lineno or node.lineno
            self.function.with_calls += tuple(
                (self.source.line_of(item.context_expr), node.lineno, end)
                for item in node.items if type(item.context_expr) is ast.Call
            )
        if not nested and len(node.items) > 1:
            self.function.shared_withs += _shared_begins(node.items, self.source.line_of)
        if not nested and len(node.items) == 1 and node.items[0].optional_vars is None and type(
            node.items[0].context_expr
        ) is ast.Call:
            # numbered before its children, as `_open` numbers the call a `with` item opens by
            self.function.entered_alone += (self.call_count,)
        for item in node.items:
            self._enters(item, False, nested)
            if not nested and type(item.context_expr) in (ast.Name, ast.Attribute):
                end = node.end_lineno or node.lineno
                self.raw_locked.append((item.context_expr, node.lineno, end))
            target = item.optional_vars
            if target is not None and type(target) is not ast.Name:
                self._bind(target)
            if type(target) is ast.Name:
                closed = self._closing(item.context_expr)
                if closed is not None:
                    # `with closing(SessionLocal()) as db`: `__enter__` returns the object itself
                    self._binding(target.id, closed)
                else:
                    self._binding(target.id, item.context_expr, entered=True)
                self.locals.add(target.id)
                if closed is None and type(item.context_expr) is ast.Call:
                    self._open(target.id, item.context_expr, self.call_count, alone=_alone(node.items, item, target.id))

    def _closing(self, expression: ast.expr) -> ast.expr | None:
        """X in `contextlib.closing(X)`, else None."""
        if type(expression) is not ast.Call or len(expression.args) != 1 or expression.keywords:
            return None
        if self.collector.resolve(dotted(expression.func), frozenset(self.locals)) != _CLOSING:
            return None
        return expression.args[0]

    def _on_generator(self, node: ast.GeneratorExp | ast.ListComp | ast.SetComp | ast.DictComp, nested: bool) -> bool:
        # Visited in the order written, like every node. The outermost iterable alone is evaluated
        # in the enclosing scope, when the expression is made: an `await` may stand there (in a
        # generator expression), and the names the comprehension binds are not bound there yet.
        first, *rest = node.generators
        generator = 1 if type(node) is ast.GeneratorExp else 0
        bound: set[str] = set()
        for comprehension in node.generators:
            bound.update(free_names(comprehension.target))
        scope = [id(node) in self.async_sources] if generator else []
        self.generators += generator
        self.generator_scopes += scope
        outer = self._enter(bound)
        for part in (node.key, node.value) if type(node) is ast.DictComp else (node.elt,):  # type: ignore[union-attr]
            self._visit(part, nested)
        self._on_comprehension(first, nested)
        self._visit(first.target, nested)
        self.generators -= generator
        if generator:
            self.generator_scopes.pop()
        self.inner = outer
        self._visit(first.iter, nested)
        self.generators += generator
        self.generator_scopes += scope
        self._enter(bound)
        for child in [*first.ifs, *rest]:
            self._visit(child, nested)
        self.inner = outer
        self.generators -= generator
        if generator:
            self.generator_scopes.pop()
        return False

    def _on_comprehension(self, node: ast.comprehension, nested: bool) -> None:
        self.iterated.add(id(node.iter))
        if not node.is_async and not nested:
            self.sync_iterated.append(node.iter)
        if node.is_async and not nested:
            self._await(self.source.line_of(node.target), "async comprehension")
        if node.is_async:
            self.async_sources.add(id(node.iter))
        self._take(node.target, node.iter, loop=True)
        self._unpacked(node.target, node.iter)

    def _on_named_expr(self, node: ast.NamedExpr, nested: bool) -> None:
        self._bind(node.target)  # bound in the function, even inside a comprehension
        self._flow_target(node.target, node.value)  # `if (fn := total) is not None: fn()` binds as `fn = total` does
        self._take(node.target, node.value)
        name = name_of(node.value)
        if name is not None and name in self.tracked:
            self.function.held_in.append((self.source.line_of(node), name, f"in `{node.target.id} := {name}`"))

    def _held_in_display(self, value: ast.expr, how: str) -> None:
        """The tracked names a display holds as items, bound or looped over rather than handed to a
        call (which `Call.args` follows): `held_in`."""
        kind = type(value)
        if kind is ast.Tuple or kind is ast.List or kind is ast.Set:
            items = value.elts  # type: ignore[attr-defined]
            shape = {ast.Tuple: "a tuple", ast.List: "a list", ast.Set: "a set"}[kind]
        elif kind is ast.Dict:
            items = value.values  # type: ignore[attr-defined]
            shape = "a dict"
        else:
            return
        for item in items:
            name = name_of(item) if type(item) is ast.Name else None
            if name is not None and name in self.tracked:
                self.function.held_in.append((self.source.line_of(item), name, f"in {shape} {how}"))

    def _take(self, target: ast.expr, value: ast.expr, loop: bool = False) -> list[str]:
        """Names bound to a value out of a container: looping over it, or `name = TABLE[kind]`;
        the sources they take (none for no container)."""
        by_pop = False
        if loop:
            source = dispatch.iterated(value)
            held = dispatch.display(source, own=True)
            if held is not None:
                found = [
                    written if written in _MARKERS or written.startswith(dispatch.BY_NAME) else f"={written}"
                    for written in held
                ]
            else:
                # `for handler in HANDLERS[type(event)]`: a loop over a value out of a container
                written = dotted(source) or dispatch.accessed(source)
                found = [written] if written is not None else []
        else:
            written = dispatch.accessed(value)
            by_pop = written is None
            if by_pop:
                written = dispatch.popped(value)
            found = [written] if written is not None else []
        if found:
            for name in free_names(target):
                self.taken.setdefault(name, []).extend(found)
                self.popped[name] = by_pop and self.popped.get(name, True)
        return found

    def _dispatch(self, local: frozenset[str], body: list[ast.stmt]) -> None:
        """Where each call of a value out of a container takes it from, resolved; a container the
        function builds itself (`handlers = {"a": crud.purge}` ... `handlers[k](db)`) is read as
        an inline display is (`dispatch.local_displays`)."""
        found = self.raw_dispatch
        for call, name in self.named_calls:
            if name in self.taken:
                call.spelled = name
                # in the body of a loop binding it, nothing else binding it there: that loop's values
                loops = [loop for loop in self.loops if name in loop[2] and loop[0] <= call.line <= loop[1]]
                innermost = min(loops, key=lambda loop: loop[1] - loop[0]) if loops and not call.nested else None
                found.append((call, innermost[3] if innermost is not None else self.taken[name]))
                call.popped = innermost is None and self.popped.get(name, False)
        resolve = self.collector.resolve
        own = {written for _, sources in found for written in sources if written in local}
        displays = dispatch.local_displays(body, own) if own else {}
        for call, sources in found:
            here = local | self.scoped[id(call)] if id(call) in self.scoped else local
            resolved: list[str] = []
            if displays:  # a name a comprehension or lambda binds there is none of the function's
                sources = [
                    item for written in sources for item in (
                        [held if held in _MARKERS or held.startswith(dispatch.BY_NAME) else f"={held}"
                         for held in displays[written]]
                        if written in displays and written not in self.scoped.get(id(call), ()) else [written]
                    )
                ]
            for written in sources:
                if written.startswith(dispatch.BY_NAME):
                    # the object looked up: a local one is no module of the project, never followed
                    looked = written[1:]
                    ref = resolve(looked, here) if looked else self.collector.name
                    if ref is not None and dispatch.BY_NAME + ref not in resolved:
                        resolved.append(dispatch.BY_NAME + ref)
                    continue
                if written == dispatch.LAMBDA:
                    if written not in resolved:
                        resolved.append(written)
                    continue
                inline = written.startswith("=")
                ref = written if written == dispatch.UNREAD else resolve(written.lstrip("="), here)
                if ref is None:  # a local: an inline display's element cannot be read; a local container is not followed
                    if not inline:
                        if written.partition(".")[0] == "self" and "." in written:
                            resolved.append(written)  # the instance's own table: `Project.own_unverified` judges it
                        elif dispatch.LOCAL + written not in resolved:
                            # `cls.registry.get(kind)`, `handlers[kind]` for a parameter: not read, but
                            # never a call that runs nothing (`Containers.unreadable_table`)
                            resolved.append(dispatch.LOCAL + written)
                        continue
                    ref = dispatch.UNREAD
                entry = f"={ref}" if inline and ref != dispatch.UNREAD else ref
                if entry not in resolved:
                    resolved.append(entry)
            if resolved:
                call.dispatch = (*call.dispatch, *(r for r in resolved if r not in call.dispatch))
        for written, inert in self.raw_changed:
            self.collector.changed(written, local, inert)
            # `lst = TABLE[k]` or `for lst in TABLE.values()`, then `lst.append(f)`: the element
            # changed in place is part of TABLE; `hooks = TABLE` then `hooks["b"] = f` changes TABLE
            for source in self.taken.get(written.partition(".")[0], ()) if "." not in written else ():
                if source not in _MARKERS and not source.startswith(("=", dispatch.BY_NAME)):
                    self.collector.changed(source, local, inert)
                    for aliased in self.aliases.get(source, ()) if "." not in source else ():
                        self.collector.changed(aliased, local, inert)
            for aliased in self.aliases.get(written, ()) if "." not in written else ():
                self.collector.changed(aliased, local, inert)
        for written, callee in self.raw_rebound:
            self.collector.rebound(written, callee, local)

    def _on_yield(self, node: ast.Yield | ast.YieldFrom, nested: bool) -> None:
        if not nested:
            self.function.is_generator = True
            if not self.function.yield_line or node.lineno < self.function.yield_line:
                self.function.yield_line = node.lineno
            name = name_of(node.value) if type(node) is ast.Yield else None
            if name is not None:
                self.function.yields += (name,)
            if type(node) is ast.Yield and syntax.is_flow(node.value):
                self.raw_yielded.append(node.value)  # type: ignore[arg-type]
            elif type(node) is ast.YieldFrom and syntax.is_flow(node.value):
                self.raw_yielded_from.append(node.value)

    def _on_return(self, node: ast.Return, nested: bool) -> None:
        value = node.value
        self._mark_in_place(value)
        if not nested:
            name = name_of(self.collector.cast_value(value, self.locals) if value is not None else None)
            if name is not None:
                self.function.yields += (name,)
            if syntax.is_flow(value) or (type(value) is ast.Subscript and syntax.is_flow(value.value)):
                self.raw_returned.append(value)  # type: ignore[arg-type]
        if type(value) is ast.Call:
            self.statements.add(id(value))

    def _on_assign(self, node: ast.Assign, nested: bool) -> None:
        overridden = override(node)
        if overridden is not None:
            self.benign.update((id(overridden[0]), id(overridden[1])))
            self.collector.overriding(overridden[1], overridden[0])
        self._held_in_display(node.value, "bound to a name")
        self._mark_in_place(node.value)
        for target in node.targets:
            self._bind(target)
            self._flow_target(target, node.value)
            self._changed(target, node.value)
            self._take(target, node.value)
            if not nested and type(target) is ast.Attribute and type(node.value) is ast.Call:
                written, callee = dotted(target), dotted(node.value.func)
                if written is not None and callee is not None:
                    self.raw_rebound.append((written, callee))
        single = node.targets[0] if len(node.targets) == 1 and type(node.targets[0]) is ast.Name else None
        if single is not None:
            # `s = cast(Session, db)` binds `db` again under another name, as `s = db` does
            bound = self.collector.cast_value(node.value, self.locals)
            aliased = dotted(bound) if type(bound) in (ast.Name, ast.Attribute) else None
            if aliased is not None and aliased != single.id:
                self.aliases.setdefault(single.id, []).append(aliased)
            adapter = self._adapter(node.value)
            if adapter is not None:
                self.adapters[single.id] = adapter
            else:
                self.adapters.pop(single.id, None)
            if not nested and type(node.value) is ast.Call:
                self.built.add(single.id)
            name = name_of(bound)
            if name is not None:
                self.function.rebinds.append((single.id, name))
        value = node.value.value if type(node.value) is ast.Await else node.value
        if (
            single is not None and not nested and type(node.value) is ast.Await and type(value) is ast.Call
            and type(value.func) is ast.Attribute and type(value.func.value) is ast.Name
            and value.func.attr == "connection"
        ):
            self.function.awaited_connections.append((single.id, value.func.value.id))
        if (
            single is not None
            and type(value) is ast.Call
            and type(value.func) is ast.Attribute
            and name_of(value.func.value) is not None
            and value.func.attr in ("get", "get_one")
            and not any(k.arg == "options" for k in value.keywords)
        ):
            self.function.plain_gets.append(single.id)
        if type(node.value) is ast.Call:
            self.statements.add(id(node.value))
            if single is not None:
                by_hand = _entered_by_hand(node.value)
                opened = by_hand[0] if by_hand is not None else node.value
                if type(opened) is ast.Call and self._closing(opened) is None:
                    self._open(single.id, opened, by_hand=by_hand is not None)
                    if by_hand is not None:
                        self.entered_by_hand.add(id(opened))
                elif by_hand is not None and type(opened) is ast.Name:
                    # `cm = SessionLocal.begin()` then `db = cm.__enter__()`: `cm` is entered by hand
                    for earlier in reversed(self.function.opens):
                        if earlier.name == opened.id:
                            earlier.by_hand = True
                            break

    def _adapter(self, value: ast.expr) -> tuple[str, ...] | None:
        """`TypeAdapter(list[Out])`: the references in the type it validates."""
        if type(value) is not ast.Call or not value.args:
            return None
        if self.collector.resolve(dotted(value.func), self.locals) not in pydantic.TYPE_ADAPTERS:
            return None
        return tuple(self.collector.refs(value.args[0]))

    def _on_ann_assign(self, node: ast.AnnAssign, nested: bool) -> None:
        if node.value is not None and type(node.target) is ast.Name:
            # `db: Session = SessionLocal()` opens, binds and builds as the unannotated form does.
            self._on_assign(ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node), nested)
            return
        self._mark_in_place(node.value)
        self._bind(node.target)
        self._changed(node.target, node.value)
        if type(node.target) is ast.Attribute:
            self._declared_assign(node)
        if node.value is not None:
            self._flow_target(node.target, node.value)
            self._take(node.target, node.value)
        if type(node.value) is ast.Call:
            self.statements.add(id(node.value))

    def _declared_assign(self, node: ast.AnnAssign) -> None:
        """`self.session: Session | None = None`: what the attribute is declared to hold."""
        target = node.target
        if type(target) is ast.Attribute and type(target.value) is ast.Name and target.value.id == "self":
            refs = tuple(self.collector.refs(node.annotation))
            if refs:
                self.function.declared_assigns.append((target.attr, refs))

    def _on_aug_assign(self, node: ast.AugAssign, nested: bool) -> None:
        self._mark_in_place(node.value)
        self._changed(node.target, node.value)
        self.augmented.add(id(node.target))

    def _changed(self, target: ast.expr, value: ast.expr | None) -> None:
        written = dispatch.changed(target)
        if written is not None:
            self.raw_changed.append((written, dispatch.inert(value)))

    def _on_test(self, node: ast.If | ast.While | ast.Assert, nested: bool) -> None:
        # The test's calls whose value only the test reads: wrapped in `await run_in_threadpool(...)`
        # in place, they run as before (the operators short-circuit as before), off the loop.
        self._mark_in_place(node.test)
        pending: list[ast.expr] = [node.test]
        while pending:
            value = pending.pop()
            kind = type(value)
            if kind is ast.Call:
                self.conditions.add(id(value))
            elif kind is ast.BoolOp:
                pending.extend(value.values)  # type: ignore[attr-defined]
            elif kind is ast.UnaryOp and type(value.op) is ast.Not:  # type: ignore[attr-defined]
                pending.append(value.operand)  # type: ignore[attr-defined]
            elif kind is ast.Compare:
                pending.extend([value.left, *value.comparators])  # type: ignore[attr-defined]

    def _stored(self, value: ast.expr) -> tuple[str, ...]:
        """`Call.stored` of what `var.set(value)` stores."""
        if type(value) is ast.Name:
            return (f"${value.id}",)
        found = []
        for inner in ast.walk(value):
            if type(inner) is ast.Call:
                spelled = dotted(inner.func)
                head = spelled.partition(".")[0] if spelled else ""
                # a local name shadowing `uuid4` is no library call: the key stays unread
                found.append("" if not spelled or head in self.locals else self.collector.resolve(spelled) or "")
                if spelled == "next" and found[-1] == "next" and len(inner.args) == 1 and not inner.keywords:
                    # `next(_ids)`: what the module-level iterator is decides whether the value repeats
                    counter = dotted(inner.args[0])
                    if counter and counter.partition(".")[0] not in self.locals:
                        found.append(f"next:{self.collector.resolve(counter) or ''}")
        return tuple(found)

    def _mark_in_place(self, root: ast.expr | None) -> None:
        """`Call.in_place` of the calls of a statement's expression: operands of the operators, a
        conditional expression's parts, a walrus's value, arguments, display items and f-string
        values, where `await call` stands as the call did. Not a receiver (`f(db).name`,
        `f(db)[0]`, `f(db)()`, where `await` would take the attribute read), nor inside a lambda, a
        comprehension or a generator expression."""
        pending: list[ast.AST] = [root] if root is not None else []
        while pending:
            value = pending.pop()
            kind = type(value)
            if kind is ast.Call:
                self.in_place.add(id(value))
                pending.extend(value.args)  # type: ignore[attr-defined]
                pending.extend(k.value for k in value.keywords)  # type: ignore[attr-defined]
            elif kind in _IN_PLACE_OPERANDS:
                pending.extend(syntax.field_children(value))
            elif kind is ast.NamedExpr:
                pending.append(value.value)  # type: ignore[attr-defined]
            elif kind is ast.Subscript:
                pending.append(value.slice)  # type: ignore[attr-defined]
            elif kind is ast.Dict:
                pending.extend(k for k in value.keys if k is not None)  # type: ignore[attr-defined]
                pending.extend(value.values)  # type: ignore[attr-defined]

    def _on_expr(self, node: ast.Expr, nested: bool) -> None:
        self._mark_in_place(node.value)
        if type(node.value) is ast.Call:
            self.statements.add(id(node.value))
            self.discarded.add(id(node.value))

    def _on_call(self, node: ast.Call, nested: bool) -> None:
        func = node.func
        while type(func) is ast.NamedExpr:
            func = func.value  # `(fn := getattr(crud, name))(db)` calls what it binds
        key = id(node)  # looked up in a dozen sets and maps below
        spelled = dotted(func)  # the called name, resolved once for the questions below
        plain = self.collector.resolve(spelled)
        self.collector.takes(node, self.benign, callee=plain)
        self._loader_call(node, func, nested)
        self._named_store(node, func)
        if (
            type(func) is ast.Attribute and func.attr == "run_sync" and key in self.awaited and node.args
            and self._offload_position(node, func, spelled, plain) is None
        ):
            run = node.args[0]
            self.greenlet_runs.append(run)
            if type(run) is ast.Lambda:
                self.greenlet_calls.update(id(inner) for inner in ast.walk(run.body) if type(inner) is ast.Call)
            elif type(run) is ast.Name:
                self.greenlet_defs.add(run.id)
        if not nested:
            self._opened_as_argument(node)
        if type(func) is ast.Call:
            self.receiver_of[id(func)] = self.call_count  # `getattr(svc, name)()` calls what `getattr` gives
        # By position, the rest set after: matching a dozen keywords against the 36 parameters of
        # `Call.__init__` cost more than building the call.
        call = facts.Call(self.source.line_of(node), None, self.call_count)
        if node.end_lineno is not None and node.end_lineno > call.line:
            call.last_line = node.end_lineno
        call.awaited = key in self.awaited
        call.nested = nested
        call.offloaded = key in self.offloaded
        if self.offloaded_lambdas:
            call.offloaded_by = self.offloaded_lambdas.get(key)
            call.unwrap = key in self.unwrapped
        if self.coroutine_sides:
            call.coroutine_side = self.coroutine_sides.get(key)
        call.statement = key in self.statements
        call.discarded = key in self.discarded
        call.top = key in self.top
        call.condition = key in self.conditions
        if key in self.in_place:
            call.in_place = True
        call.in_generator = self.generators > 0
        call.async_iterated = bool(self.generator_scopes) and self.generator_scopes[-1]
        call.argument_of = self.argument_of.get(key)
        call.receiver_of = self.receiver_of.get(key)
        call.argument_at = self.argument_at.get(key)
        call.displayed_in = self.displayed_in.get(key)
        call.coroutine = self.coroutines[-1] if self.coroutines else None
        call.greenlet = key in self.greenlet_calls
        if self.defs:
            self.call_defs[call.index] = tuple(self.defs)
        argument_of = self.argument_of
        position: int | None = 0
        for value in node.args:
            if type(value) is ast.Starred:
                value = value.value
                position = None
            # `gather(await f())` too: the self-check refuses an awaited coroutine handed to a scheduler.
            if type(value) is ast.Await:
                value = value.value
            if type(value) is ast.Call:
                argument_of[id(value)] = self.call_count
                if position is not None:
                    self.argument_at[id(value)] = position
            else:
                self._displayed(value)
            if position is not None:
                position += 1
        for keyword in node.keywords:
            value = keyword.value
            if type(value) is ast.Await:
                value = value.value
            if type(value) is ast.Call:
                argument_of[id(value)] = self.call_count
                if keyword.arg is not None:
                    self.argument_at[id(value)] = keyword.arg
            else:
                self._displayed(value)
        if type(func) is ast.Attribute and func.attr in pydantic.ADAPTER_VALIDATES:
            adapter = self._adapter(func.value)
            if adapter is None and type(func.value) is ast.Name:
                adapter = self.adapters.get(func.value.id)
            if adapter is not None:
                call.adapted = adapter
        elif plain in pydantic.PARSE_AS and node.args:
            call.adapted = tuple(self.collector.refs(node.args[0]))
        elif type(func) is ast.Subscript and self.collector._parametrised_class(func):
            call.type_args = tuple(self.collector.refs(func.slice))
        if type(func) is ast.Attribute:
            held = self.collector.cast_value(func.value, self.locals)  # `cast(Session, db).get(...)` calls on `db`
            if type(held) is ast.Call:
                call.chained = func.attr
                self.receiver_of[id(held)] = call.index
            receiver = name_of(held)
            if receiver is not None:
                call.receiver = receiver
                call.method = func.attr
        if type(func) is ast.Attribute and func.attr in _FILTERS:
            tested = filtered_columns(node)
            if tested:
                self.function.filtered[call.index] = tested
        if key not in self.chain_inner:
            root = _query_chain_root(node)
            if root is not None:
                self._query_chain(node, root, call)
        # `_args` and `_contained` of `_written_args`, in one pass over the arguments.
        recorded_args: list[facts.Arg] = []
        contained: list[str] = []
        position = 0
        for given in node.args:
            if type(given) is not ast.Starred:
                given = self.collector.cast_value(given, self.locals)  # `helper(cast(Session, db))` hands `db`
                recorded = facts.Arg(position, None, name_of(given), dotted(given))
                position += 1
                self._given(recorded, given, contained)
                recorded_args.append(recorded)
        for keyword in node.keywords:
            if keyword.arg is not None:
                given = self.collector.cast_value(keyword.value, self.locals)
                recorded = facts.Arg(None, keyword.arg, name_of(given), dotted(given))
                self._given(recorded, given, contained)
                recorded_args.append(recorded)
        call.args = recorded_args
        if (
            type(func) is ast.Name and func.id in _BY_NAME and func.id not in self.locals and len(node.args) >= 2
            and type(node.args[0]) is not ast.Starred and type(node.args[1]) not in (ast.Constant, ast.Name, ast.Starred)
        ):
            recorded_args[1].computed = syntax.text(self.source, node.args[1])
        call.literals = param_branches.literal_args(node)
        if type(func) is ast.Attribute and func.attr == "set" and len(node.args) == 1 and not node.keywords:
            call.stored = self._stored(node.args[0])
        # Most calls unpack nothing: what follows reads the `*` and `**` arguments only.
        starred = [a for a in node.args if type(a) is ast.Starred]
        unpacked = [a.value for a in starred]
        if node.keywords:
            mappings = [k.value for k in node.keywords if k.arg is None]
            call.unpacks_keywords = bool(mappings)
            unpacked += mappings
        if unpacked:
            splatted = [name for given in unpacked if (name := _splatted_name(given)) is not None]
            if splatted:
                call.splatted = tuple(dict.fromkeys(splatted))
        if starred:
            first = starred[0]
            if type(first.value) is ast.Name:
                call.forwarded = (first.value.id, next(i for i, given in enumerate(node.args) if given is first))
        if type(func) is ast.Attribute and func.attr in RENDERING_METHODS and _renders(func):
            call.rendered = _rendered(self.source, node)
        if node.keywords and any(
            item.arg == "execution_options" or (item.arg is None and type(func) is ast.Attribute and func.attr == "execution_options")
            for item in node.keywords
        ):
            self.raw_options.append((call, node))
        call.contained = tuple(dict.fromkeys(contained)) if contained else ()
        call.query_chain = self.query_chains.get(key)
        call.query_iterated = key in self.iterated_chains
        if (
            type(func) is ast.Name and func.id in _ITERATING_BUILTINS and func.id not in self.locals
            and len(node.args) == 1 and not node.keywords and type(node.args[0]) is not ast.Starred
        ):
            self.iterated.add(id(node.args[0]))
        if (
            not nested and type(func) is ast.Name and func.id in _SYNC_ITERATING and func.id not in self.locals
            and not node.keywords
        ):
            self.sync_iterated.extend(
                arg for arg in (
                    node.args if func.id == "zip" else node.args[1:] if func.id in ("map", "filter") else node.args[:1]
                )
                if type(arg) is not ast.Starred
            )
        self.function.calls.append(call)
        self.raw_calls.append((call, func))
        if self.inner:
            self.scoped[id(call)] = self.inner
        if type(func) is ast.Name:
            self.named_calls.append((call, func.id))
        elif type(func) is not ast.Subscript or not self.collector._parametrised_class(func):
            # `Page[Out](items=rows)` builds a Page: no value taken out of a container
            container = dispatch.accessed(func)
            if container is not None:
                self.raw_dispatch.append((call, [container]))
                call.spelled = " ".join(self.source.code(func).split())
            if type(func) is ast.Attribute and func.attr in dispatch.MUTATORS:
                receiver_written = dispatch.holder(func.value)  # `TABLE[k].append(f)` changes TABLE
                if receiver_written is not None:
                    inert = dispatch.inert(*(argument_value(item) for item in syntax.call_arguments(node)))
                    self.raw_changed.append((receiver_written, inert))
        offload = self._offload_position(node, func, spelled, plain)
        if offload is not None:
            position, keywords = offload
            # `anyio.to_thread.run_sync(f, a)` with no keyword of its own (`limiter=`) calls `f(a)`
            # as `run_in_threadpool(f, a)` does: phase two may write it `await f(a)` the same way.
            self._offloaded_helper(node, call, nested, position, keywords or not node.keywords)
        if plain in DEPENDS:
            target = self.collector.depends_target(node)
            if target is not None:
                self.collector.facts.depends.append(target)
        self.call_count += 1

    def _displayed(self, value: ast.expr) -> None:
        """The calls a display argument of the call being read holds as items (`args=(x, Repo(db))`)."""
        kind = type(value)
        if kind is ast.Tuple or kind is ast.List or kind is ast.Set:
            items = value.elts  # type: ignore[attr-defined]
        elif kind is ast.Dict:
            items = value.values  # type: ignore[attr-defined]
        else:
            return
        for item in items:
            if type(item) is ast.Call:
                self.displayed_in[id(item)] = self.call_count

    def _forwards(self, local: frozenset[str]) -> str | None:
        """`Function.forwards`: X, when this is a method `__getattr__(self, name)` every return of
        which is `getattr(X, name)` (a proxy forwarding each attribute it lacks), else None."""
        function = self.function
        returned = [value for value in self.raw_returned if type(value) is not ast.Subscript]  # read apart
        if function.name != "__getattr__" or len(function.params) != 2 or not returned:
            return None
        attribute = function.params[1].name
        found: set[str | None] = set()
        for value in returned:
            if not (
                type(value) is ast.Call and type(value.func) is ast.Name and value.func.id == "getattr"
                and "getattr" not in local and len(value.args) == 2 and not value.keywords
                and type(value.args[1]) is ast.Name and value.args[1].id == attribute
            ):
                return None
            found.add(self.collector.expression(value.args[0], local))
        return found.pop() if len(found) == 1 else None

    def _given(self, recorded: facts.Arg, passed: ast.expr, contained: list[str]) -> None:
        """One argument of `_on_call`: the bare names of a display it is (`_contained`), and a value
        the flow reads later."""
        kind = type(passed)
        if kind is not ast.Name:
            recorded.data = data_reads(passed)
        if kind is ast.Attribute or (
            # `OrderService(self.uow())`: what a method of a local object returns is passed on too;
            # and `report(current_session())`, `report(db_session.get())`: what a function returns,
            # or a module-level ContextVar holds for the request
            kind is ast.Call and type(passed.func) in (ast.Attribute, ast.Name) and not passed.args and not passed.keywords  # type: ignore[attr-defined]
        ):
            self.raw_args.append((recorded, passed))
        elif kind is ast.Tuple or kind is ast.List or kind is ast.Set or kind is ast.Dict:
            items = passed.values if kind is ast.Dict else passed.elts  # type: ignore[attr-defined]
            names = [e.id for e in items if type(e) is ast.Name]
            contained.extend(names)
            recorded.displayed = tuple(f"${name}" for name in dict.fromkeys(names))
            # `{"db": ctx.db}`: an attribute path, spelled once the function's local names are known
            self.raw_displayed.extend((recorded, e) for e in items if type(e) is ast.Attribute)

    def _offload_position(
        self, node: ast.Call, func: ast.expr, spelled: str | None, plain: str | None
    ) -> tuple[int, bool] | None:
        """Where an offloading call takes its function, and whether the call passes keywords on.

        `run_in_threadpool(f, *args, **kwargs)`, `asyncio.to_thread(f, ...)`,
        `anyio.to_thread.run_sync(f, *args)` and `loop.run_in_executor(executor, f, *args)`
        all run `f` in a worker thread. `plain`: `spelled` resolved as no local name.
        """
        if type(func) is ast.Attribute and func.attr == "run_in_executor":
            return 1, False
        if type(func) is ast.Attribute and func.attr in _STARTS and node.args and self._offloader(node.args[0]):
            # `tg.start_soon(to_thread.run_sync, f, db)`: the task runs `f(db)` in a worker
            # thread; a task group hands its own keywords (`name=`) to no one
            return 1, False
        if type(func) is ast.Name or type(func) is ast.Attribute:
            offloader = None if spelled is None or spelled.partition(".")[0] in self.locals else plain
            if offloader in OFFLOADERS:
                return 0, offloader != "anyio.to_thread.run_sync"
        return None

    def _offloaded_result(self, call: ast.expr) -> ast.Call | None:
        """`f()` for `run_in_threadpool(f)`, `asyncio.to_thread(f)` or `anyio.to_thread.run_sync(f)`
        given a (dotted) name alone: the call whose result the awaited offload gives. None otherwise."""
        if type(call) is not ast.Call or call.keywords or len(call.args) != 1:
            return None
        target = call.args[0]
        if type(target) not in (ast.Name, ast.Attribute) or not self._offloader(call.func):
            return None
        return ast.copy_location(ast.Call(func=target, args=[], keywords=[]), target)

    def _offloader(self, value: ast.expr) -> bool:
        """Whether `value` names an offloading function (`anyio.to_thread.run_sync`, `run_in_threadpool`)."""
        spelled = dotted(value)
        return spelled is not None and spelled.partition(".")[0] not in self.locals \
            and self.collector.resolve(spelled) in OFFLOADERS

    def _offloaded_helper(self, node: ast.Call, call: facts.Call, nested: bool, position: int, keywords: bool) -> None:
        """Record an offloaded `f(...)` as a call of `f`, marked offloaded, at the outer call's index.

        `functools.partial(f, a)` as the function counts as `f` called with `a` first;
        its own call is marked offloaded too, so the Session it carries is no hand-off.
        """
        if _starred(node):
            return
        positional: list[ast.AST] = list(node.args)
        if len(positional) > position:
            target = positional[position]
            arguments = positional[position + 1 :]
            passed = list(node.keywords)
        else:
            # `run_in_threadpool(func=helper, db=db)`: the function given by its keyword, the
            # rest of the keywords passed on to it
            given = next((k for k in node.keywords if k.arg == "func"), None) if position == 0 and not positional else None
            if given is None:
                return
            target = given.value
            arguments = []
            passed = [k for k in node.keywords if k is not given]
        if keywords:
            arguments += passed
        direct = position == 0 and keywords
        # `await loop.run_in_executor(None, f, a)` is `await f(a)` as `await to_thread(f, a)` is; a
        # task group's `start_soon(to_thread.run_sync, f)` is not awaited in place
        executor = type(node.func) is ast.Attribute and node.func.attr == "run_in_executor"
        unwrap = call.awaited and keywords and (position == 0 or executor)
        if type(target) is ast.Lambda:
            # The lambda's body is what runs in the thread: its calls are offloaded, not the loop's.
            inside = [id(inner) for inner in ast.walk(target.body) if type(inner) is ast.Call]
            self.offloaded.update(inside)
            self.offloaded_lambdas.update(dict.fromkeys(inside, call.index))
            params = target.args
            if unwrap and not arguments and inside == [id(target.body)] and not (
                params.posonlyargs or params.args or params.vararg or params.kwonlyargs or params.kwarg
            ):
                self.unwrapped.add(id(target.body))
            return
        local = frozenset(self.locals)
        if type(target) is ast.Call and self.collector.resolve(dotted(target.func), local) == _PARTIAL:
            inner = _written_args(target)
            if not inner or type(inner[0]) is ast.keyword or _starred(target):
                return
            self.offloaded.add(id(target))
            target = inner[0]
            bound = inner[1:]
            arguments = (
                [a for a in bound if type(a) is not ast.keyword]
                + arguments
                + [a for a in bound if type(a) is ast.keyword]
            )
            direct = False
        if dotted(target) is None and not (type(target) is ast.Attribute and type(target.value) is ast.Call):
            # `run_in_threadpool(crud.Artifacts().list_tags, db)`: a method of an instance built
            # on the spot runs in the thread as `x.list_tags` would (the constructor on the loop)
            return
        if type(target) is ast.Name:
            self.offloaded_names.add(id(target))
        handed = _args(arguments)
        # `run_in_threadpool(fetch, self.db, i)`: an attribute path handed on (the Session a view
        # or a repository holds) is read by the flow as the direct call's argument is
        values = [argument_value(a) for a in arguments
                  if type(a) is not ast.Starred and not (type(a) is ast.keyword and a.arg is None)]
        for recorded, value in zip(handed, values, strict=True):
            self._given(recorded, value, [])
        helper = facts.Call(
            line=call.line,
            callee=None,
            index=self.call_count,
            args=handed,
            awaited=call.awaited,
            nested=nested,
            offloaded=True,
            offload_direct=direct,
            unwrap=unwrap,
            coroutine=call.coroutine,
        )
        if type(target) is ast.Name:
            # `run_in_threadpool(fn, db)` with `fn = TABLE[kind]`: any value of the table may run
            self.named_calls.append((helper, target.id))
            if self.coroutine_sides:
                helper.coroutine_side = self.coroutine_sides.get(id(target))
        self.function.calls.append(helper)
        self.raw_calls.append((helper, target))  # type: ignore[arg-type]
        if self.inner:
            self.scoped[id(helper)] = self.inner
        self.callees.add(id(target))  # a call the graph sees, not a bare value

    def _query_chain(self, outer: ast.Call, root: ast.Call, call: facts.Call) -> None:
        """Record a legacy Query chain once, at its outermost call."""
        node: ast.expr = outer
        while type(node) is ast.Call and type(node.func) is ast.Attribute:
            self.chain_inner.add(id(node))
            if node is root:
                break
            node = node.func.value
        call.query_root = dotted(root.func.value)  # type: ignore[attr-defined]
        self.query_chains[id(root)] = self.source.raw(outer)
        if id(outer) in self.iterated:
            self.iterated_chains.add(id(root))

    def _flow_target(self, target: ast.expr, value: ast.expr | None) -> None:
        if type(target) is ast.Attribute and type(target.value) is ast.Attribute and target.value.attr == "state":
            # what a request's state holds is read back elsewhere (codemods/flow.py, request_state)
            self.raw_state_assigns.append((self.source.line_of(target), target.value.value, target.attr, value))
            return
        if type(target) is ast.Subscript and value is not None:
            self.raw_item_puts.append((target.value, value))
            return
        if type(target) is ast.Tuple or type(target) is ast.List:
            elements = target.elts
            made = loop_holders.pair_made(value, self.collector.ref)
            if made is not None:
                for element in elements:  # `send, recv = anyio.create_memory_object_stream()`: both ends
                    self._flow_target(element, made)
                return
            if (
                type(value) in (ast.Tuple, ast.List) and len(value.elts) == len(elements)  # type: ignore[union-attr]
                and not any(type(e) is ast.Starred for e in (*elements, *value.elts))  # type: ignore[union-attr]
            ):
                for element, item in zip(elements, value.elts):  # type: ignore[union-attr]
                    self._flow_target(element, item)  # `s, n = db, name` binds `s` as `s = db` does
                return
            for element in elements:  # an element each: no value the notation spells
                self._flow_target(element.value if type(element) is ast.Starred else element, None)
            if value is not None:
                self._unpacked(target, value)
            return
        if value is None:
            return
        if type(target) is ast.Name:
            self._binding(target.id, value)
        elif (
            type(target) is ast.Attribute
            and type(target.value) is ast.Name
            and target.value.id == "self"
            and syntax.is_flow(value)
        ):
            self.raw_assigns.append((target.attr, value))
            self.assign_lines.append(self.source.line_of(target))
        elif type(target) is ast.Attribute and type(value) in _STORED_VALUES:
            # `repo.session = db`, `REGISTRY["x"].session = db`: an attribute set from outside
            self.raw_attribute_stores.append((self.source.line_of(target), target.value, target.attr, value))

    def _unpacked(self, target: ast.expr, value: ast.expr) -> None:
        """Names bound to an element of `value`: unpacked from it or looping over it. In the
        target's order, never a set's: facts are the same bytes in every process."""
        pending = [target]
        while pending:
            node = pending.pop(0)
            if type(node) is ast.Name:
                self.raw_unpacked.append((node.id, value))
            elif type(node) is ast.Starred:
                pending.insert(0, node.value)
            elif type(node) is ast.Tuple or type(node) is ast.List:
                pending[:0] = node.elts

    def _binding(self, name: str, value: ast.expr, entered: bool = False, asynchronous: bool = False) -> None:
        by_hand = None if entered else _entered_by_hand(value)
        if by_hand is not None:
            # `db = SessionLocal.begin().__enter__()`, `db = stack.enter_context(SessionLocal())`:
            # bound as `with ... as db` binds it, so the Session it holds is followed
            inner, asynchronous = by_hand
            closed = self._closing(inner)
            if closed is not None:
                self._binding(name, closed)
            else:
                self._binding(name, inner, entered=True, asynchronous=asynchronous)
            return
        if not entered and type(value) is ast.Await:
            made = self._offloaded_result(value.value)
            if made is not None:
                # `db = await run_in_threadpool(SessionLocal)`: the name holds what `SessionLocal()`
                # returns, made in a worker thread; what is done with it later runs where it is done
                self.raw_bindings.append((facts.Binding(name, "", offloaded=True), made))
                return
        # `session = session or db_session.get()`: the name may hold either operand, each a binding;
        # so may `s = db if db is not None else SessionLocal` hold either branch
        if not entered and type(value) is ast.BoolOp:
            for operand in value.values:
                self._binding(name, operand)
            return
        if not entered and type(value) is ast.IfExp:
            self._binding(name, value.body)
            self._binding(name, value.orelse)
            return
        # a `with` binds even what the notation cannot spell (`with REGISTRY["default"]() as s`),
        # and an item taken by subscript is kept apart (`Function.items`)
        if entered or syntax.is_flow(value) or type(value) is ast.Subscript:
            self.raw_bindings.append((facts.Binding(name, "", entered=entered, asynchronous=asynchronous), value))
        elif type(value) in _DISPLAYS:
            self.raw_displays.append((name, value))

    def _bind(self, target: ast.expr) -> None:
        kind = type(target)
        if kind is ast.Name:
            self.locals.add(target.id)  # type: ignore[attr-defined]
        elif kind is ast.Tuple or kind is ast.List:
            for element in target.elts:  # type: ignore[attr-defined]
                self._bind(element.value if type(element) is ast.Starred else element)

    def _opened_as_argument(self, node: ast.Call) -> None:
        """`helper(SessionLocal(), email)`: a Session opened right in the argument list, never bound
        nor closed here, with the helper's Session work on it. Recorded as an unnamed opening
        (kept only where the callee is a sessionmaker), so the Session work is not missed."""
        outer: str | None = None
        for given in [*node.args, *[k.value for k in node.keywords]] if node.keywords else node.args:
            if type(given) is ast.Call and not given.args and not given.keywords and id(given) not in self.entered_by_hand:
                callee = self.collector.resolve(dotted(given.func), frozenset(self.locals))
                if callee is not None:
                    if outer is None:
                        outer = self.collector.resolve(dotted(node.func), frozenset(self.locals)) or ""
                    self.function.opens.append(
                        facts.SessionOpen(name=None, callee=callee, line=self.source.line_of(given), given_to=outer)
                    )

    def _open(self, name: str, call: ast.Call, index: int = -1, alone: bool = True, by_hand: bool = False) -> None:
        path = dotted(call.func)
        callee = self.collector.resolve(path, frozenset(self.locals - {name}))
        if callee is None:
            head, _, rest = (path or "").partition(".")
            if head in self.params and (rest.startswith("state.") or ".state." in rest):
                # `s = request.app.state.registry()`: what the application keeps may open a Session
                # (the flow reads it), so the name's later uses are recorded as an opened one's are
                self.tracked.add(name)
            return
        self.function.opens.append(
            facts.SessionOpen(
                name=name, callee=callee, line=self.source.line_of(call), index=index, alone=alone, by_hand=by_hand
            )
        )
        self.tracked.add(name)
        self.locals.add(name)

    # ------------------------------------------------------ lazy-load facts

    def _attribute(self, node: ast.Attribute, nested: bool) -> None:
        value = node.value
        if type(node.ctx) is ast.Store and not nested:
            self.raw_writes.append((self.source.line_of(node), value, node.attr))
        elif type(node.ctx) is ast.Load and not nested and id(node) not in self.callees:
            self.raw_receiver_reads.append((self.source.line_of(node), value, node.attr))
        if type(value) is ast.Name:
            if id(node) not in self.callees:
                self.raw_attributes.append((self.source.line_of(node), value.id, node.attr))
                if type(node.ctx) is ast.Store:
                    self.raw_stores.append(self.raw_attributes[-1])
                    if id(node) in self.augmented:
                        self.raw_updates.append(self.raw_attributes[-1])
        elif type(value) is ast.Attribute and value.attr == "awaitable_attrs":
            # `await obj.awaitable_attrs.rel` loads `rel` on `obj` only
            held = value.value.id if type(value.value) is ast.Name and not nested else ""
            self.raw_refreshed.append((node, held, node.attr))

    def _receiver_reads(self, local: frozenset[str]) -> None:
        """`Function.receiver_reads`: the reads `Function.attributes` leaves out (on `self`, a
        module-level name, an attribute chain or a call's value), spelled, each pair once."""
        module_level = self.module_level
        seen: set[tuple[str, str]] = set()
        found = self.function.receiver_reads
        for line, receiver, attribute in self.raw_receiver_reads:
            if type(receiver) is ast.Name and receiver.id not in _SELF and (
                receiver.id in self.locals or receiver.id not in module_level
            ):
                continue  # in `attributes`
            spelled = self.collector.expression(receiver, local)
            if spelled is not None and (spelled, attribute) not in seen:
                seen.add((spelled, attribute))
                found.append((line, spelled, attribute))

    def _named_store(self, node: ast.Call, func: ast.expr) -> None:
        """`setattr(team, "members", [])` is `team.members = []`: replacing a collection loads the
        one it replaces (delete-orphan, backrefs), and a write runs `@validates` and setters."""
        if type(func) is not ast.Name or func.id not in ("setattr", "delattr") or func.id in self.locals:
            return
        name = syntax.string(node.args[1]) if len(node.args) > 1 else None
        if func.id == "setattr" and len(node.args) == 3 and not node.keywords and type(node.args[2]) in _STORED_VALUES:
            # `setattr(repo, "session", db)` is `repo.session = db`; a name computed at run time: ""
            attribute = name if name is not None and name.isidentifier() else ""
            self.raw_attribute_stores.append((self.source.line_of(node), node.args[0], attribute, node.args[2]))
            written, value = dotted(node.args[0]), node.args[2]
            if attribute and written is not None and type(value) is ast.Call and (callee := dotted(value.func)):
                self.raw_rebound.append((f"{written}.{attribute}", callee))  # as `Repo.other = SessionLocal()`
        if len(node.args) < 2 or node.keywords or type(node.args[0]) is not ast.Name:
            return
        if name is None and func.id == "setattr":
            # a name given at run time (the PATCH loop `setattr(item, key, value)`): a write of
            # any attribute, "*", which runs whatever watches a write (`Members.write_hooks`)
            self.raw_stores.append((self.source.line_of(node), node.args[0].id, "*"))
            return
        if name is None or not name.isidentifier():
            return
        self.raw_attributes.append((self.source.line_of(node), node.args[0].id, name))
        self.raw_stores.append(self.raw_attributes[-1])

    def _loader_call(self, node: ast.Call, func: ast.expr, nested: bool) -> None:
        self.callees.add(id(func))
        if type(func) is ast.Attribute:
            attr = func.attr
            if attr == "refresh":  # session.refresh(obj, attribute_names=["rel"]) loads on `obj` only
                names = syntax.strings(argument(node, 1, "attribute_names"))
                target = argument(node, 0, "instance")
                # a nested scope's name may be another object than the function's of that name
                held = target.id if type(target) is ast.Name and not nested else ""
                self.raw_refreshed.extend((node, held, name) for name in names)
            elif attr == "expire":  # session.expire(obj, ["status"]) expires those attributes only
                listed = argument(node, 1, "attribute_names")
                names = syntax.strings(listed)
                target = argument(node, 0, "instance")
                if names and len(names) == len(listed.elts) and type(target) is ast.Name:  # type: ignore[union-attr]
                    line = self.source.line_of(node)
                    self.function.expired_attributes.extend((line, target.id, name) for name in names)
            elif attr in LOADER_NAMES or attr in UNDEFER_NAMES:
                # `selectinload(A.b).selectinload(B.c)`, `Load(A).joinedload(A.b)`: a method of an option
                self.raw_loaders.append((None if type(func.value) is ast.Call else dotted(func), node))
        elif type(func) is ast.Name and (func.id in LOADER_NAMES or func.id in UNDEFER_NAMES):
            self.raw_loaders.append((func.id, node))
        name = func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else None
        if name in POLYMORPHIC_LOADERS:
            self._polymorphic(node)
        elif name in NARROWING_NAMES:
            # `selectinload(A.b).load_only(B.c)`: a method of an option, resolved as nothing
            written = None if type(func) is ast.Attribute and type(func.value) is ast.Call else dotted(func)
            self.raw_narrowing.append((written, name, node))

    def _polymorphic(self, node: ast.Call) -> None:
        """`selectin_polymorphic(Base, [Sub])`, `with_polymorphic(Base, [Sub] | "*")`: the
        subclasses' columns load with the query (`POLYMORPHIC` entries of `eager`)."""
        classes = argument(node, 1, "classes")
        written: list[str | None] = [None]  # "*", or classes the tool cannot read: every subclass
        if type(classes) in (ast.List, ast.Tuple):
            written = [dotted(item) for item in classes.elts]  # type: ignore[union-attr]
        for path in written:
            owner = self.collector.resolve(path, frozenset(self.locals)) if path is not None else None
            self.function.eager.append((owner or "", POLYMORPHIC))

    def _lazy_facts(self) -> None:
        local = frozenset(self.locals)
        for written, call in self.raw_loaders:
            if written is not None:
                callee = self.collector.resolve(written, local)
                # None: a method of a local loader object (`load = Load(A); load.selectinload(...)`)
                if callee is not None and callee not in LOADER_OPTIONS and callee not in UNDEFER_OPTIONS:
                    continue
            for item in call.args:
                if type(item) is not ast.Starred:
                    self._eager_argument(item, local)
        for written, option, call in self.raw_narrowing:
            if written is not None and self.collector.resolve(written, local) not in NARROWING_OPTIONS:
                continue
            named: dict[str, list[str]] = {}
            for item in call.args:
                path = dotted(item) if type(item) is not ast.Starred else None
                if path is not None and "." in path:
                    owner, _, attr = path.rpartition(".")
                    named.setdefault(self.collector.resolve(owner, local) or "", []).append(attr)
            self.function.narrowed.extend((owner, option, tuple(names)) for owner, names in named.items())
        module_level = self.module_level
        attributes = self.function.attributes
        for line, receiver, attr in self.raw_attributes:
            if receiver in _SELF:
                continue  # methods are not reached through resolvable calls; skip the bulk
            if receiver in self.locals or receiver not in module_level:
                attributes.append((line, receiver, attr))
        self.function.stores.extend(
            (line, receiver, attr) for line, receiver, attr in self.raw_stores
            if receiver in _SELF or receiver in self.locals or receiver not in module_level
        )
        stored = set(self.function.stores)
        self.function.updates.extend(entry for entry in self.raw_updates if entry in stored)

    def _refreshed(self, body: list[ast.stmt]) -> None:
        """`Function.refreshed`: a refresh some path may skip (under an `if`, `while`, `try`,
        `match`, a conditional expression, a loop's `else`), or one after a `return` of a value
        (the object may leave unrefreshed), is recorded without the object's name: it loads
        nothing for sure."""
        skipped, exits, guarded = _skippable(body)
        line_of = self.source.line_of
        for node, held, name in self.raw_refreshed:
            line = line_of(node)
            if (id(node) in skipped and guarded.get(line) != held) or any(exit_line < line for exit_line in exits):
                held = ""
            self.function.refreshed.append((line, held, name))

    def _eager_argument(self, value: ast.expr, local: frozenset[str]) -> None:
        # `A.b.of_type(C)`, `A.b.and_(...)` load `A.b`
        while type(value) is ast.Call and type(value.func) is ast.Attribute and value.func.attr in ("of_type", "and_"):
            value = value.func.value
        if syntax.string(value) is not None:
            # a legacy string path or the "*" wildcard loads on the entities of the query it is
            # written in, which `Load.options` says; named here it would credit any object
            return
        path = dotted(value)
        if path is None or "." not in path:
            return
        owner, _, attr = path.rpartition(".")
        self.function.eager.append((self.collector.resolve(owner, local) or "", attr))


# Statements and expressions some path runs without their parts (`try` as well: it may raise first).
_BRANCHING: tuple[type, ...] = (
    ast.If, ast.While, ast.Try, ast.Match, ast.IfExp, ast.BoolOp, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()),
)


def _skippable(body: list[ast.stmt]) -> tuple[set[int], list[int], dict[int, str]]:
    """The ids of the nodes of the own body some path through it may skip (in an `if`, `while`,
    `try` or `match` statement, a loop's `else`, a conditional expression or `and`/`or`), the
    lines of its `return` statements of a value other than None, and the lines of each guard of a
    name no path otherwise skips (`_guarded`), with the name."""
    skipped: set[int] = set()
    exits: list[int] = []
    guarded: dict[int, str] = {}
    pending: list[tuple[ast.AST, bool]] = [(statement, False) for statement in body]
    while pending:
        node, skippable = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if type(node) is ast.Return and node.value is not None and not (
            type(node.value) is ast.Constant and node.value.value is None
        ):
            exits.append(node.lineno)
        if skippable:
            skipped.add(id(node))
        elif type(node) is ast.If:
            guarded.update(_guarded(node))
        branching = isinstance(node, _BRANCHING)
        for child in ast.iter_child_nodes(node):
            orelse = isinstance(node, (ast.For, ast.AsyncFor)) and child in node.orelse
            pending.append((child, skippable or branching or orelse))
    return skipped, exits, guarded


def _guarded(node: ast.If) -> dict[int, str]:
    """Line -> name of each statement of an `if name is not None:` (or `if name:`) whose body only
    awaits calls and which has no `else`: the refresh there skips exactly when `name` holds no
    object, whose attributes nothing can read then (`task = await crud.task.get(db, id=1)`,
    `if task is not None: await db.refresh(task, ...)`)."""
    test = node.test
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.IsNot)
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None):
        test = test.left
    if node.orelse or not isinstance(test, ast.Name) or not all(
        isinstance(s, ast.Expr) and isinstance(s.value, ast.Await) and isinstance(s.value.value, ast.Call)
        for s in node.body
    ):
        return {}
    return {line: test.id for s in node.body for line in range(s.lineno, (s.end_lineno or s.lineno) + 1)}


def _assignments(nodes: list[Any]) -> Iterator[tuple[Any, list[ast.expr], ast.expr | None]]:
    """Each assignment among `nodes` that binds a value: (the statement, its targets, the value
    assigned, None for an augmented one, which reads its target first). An annotation alone
    (`x: int`) assigns nothing."""
    for node in nodes:
        kind = type(node)
        if kind is ast.AugAssign:
            yield node, [node.target], None
        elif kind is ast.Assign:
            yield node, node.targets, node.value
        elif kind is ast.AnnAssign and node.value is not None:
            yield node, [node.target], node.value


def _updates(
    nodes: list[Any], key: Callable[[ast.expr], str | None], reads: Callable[[ast.expr, str], bool]
) -> list[tuple[str, int]]:
    """The targets `key` names that an assignment outside nested scopes updates from their own
    value (`n += 1`, `n = n + 1`, as `reads` finds the target in the value): each key and the
    line of its first such update. A plain rebinding (`_cache = build()`) is not one. `nodes`: the
    body's `syntax.own_nodes`, or its `OwnNodes.writes` (the only nodes read here)."""
    found: dict[str, int] = {}
    for node, targets, value in _assignments(nodes):
        for target in targets:
            name = key(target)
            if name is None or name in found:
                continue
            if value is None or reads(value, name):
                found[name] = node.lineno
    return sorted(found.items(), key=lambda item: item[1])


def global_updates(nodes: list[Any], declared: set[str]) -> list[tuple[str, int]]:
    """`n += 1`, `n = n + 1` on a name the body declares `global`, outside nested scopes: the
    name and the line of its first such update. A plain rebinding (`_cache = build()`) is not one."""
    return _updates(
        nodes,
        lambda target: target.id if type(target) is ast.Name and target.id in declared else None,
        lambda value, name: any(type(n) is ast.Name and n.id == name for n in ast.walk(value)),
    )


def _updated_path(node: ast.expr, bound: frozenset[str], inside: bool = False) -> str | None:
    """`COUNTS` for `COUNTS[k]`, `stats.hits` for `stats.hits[k]`, `Stats.total`: the attribute
    path of an item or attribute of a name the function does not bind (`inside`: of one it binds,
    a parameter or a local), as written."""
    if type(node) not in (ast.Attribute, ast.Subscript):
        return None
    while type(node) is ast.Subscript:
        node = node.value
    parts: list[str] = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)
        node = node.value
    if type(node) is not ast.Name or (node.id in bound) is not inside:
        return None
    return ".".join([node.id, *reversed(parts)])


def _reads_path(value: ast.expr, path: str) -> bool:
    return any(type(n) in (ast.Name, ast.Attribute) and syntax.dotted(n) == path for n in syntax.walk_fields(value))


def free_updates(nodes: list[Any], bound: frozenset[str]) -> list[tuple[str, int]]:
    """`COUNTS[k] += 1`, `COUNTS[k] = COUNTS.get(k, 0) + 1`, `Stats.total += 1`,
    `stats.hits[k] += 1`: an item or attribute of a name the function does not bind (a
    module-level object or class, a name a factory's closure holds: one for every request)
    updated from its own value, outside nested scopes: the path as written and the line of its
    first such update. A plain assignment (`CACHE[k] = v`) is not one, nor a bare name
    (`global_updates`)."""
    return _updates(nodes, lambda target: _updated_path(target, bound), _reads_path)


def bound_updates(nodes: list[Any], bound: frozenset[str]) -> list[tuple[str, int]]:
    """`request.app.state.hits += 1`, `hits[k] = hits.get(k, 0) + 1`: an item or attribute of a
    name the function binds (a parameter, a local) updated from its own value, outside nested
    scopes: the path as written and the line of its first such update. Shared state where that
    name stands for it (the application's state, a local bound to a module-level container:
    `codemods.phase1.shared_updates`); a bare local (`n += 1`) is none."""
    return _updates(nodes, lambda target: _updated_path(target, bound, inside=True), _reads_path)


def derived_stores(nodes: list[Any], bound: frozenset[str]) -> tuple[tuple[int, str, str], ...]:
    """`post.likes += 1`, `post.likes = post.likes + 1`, `post.on = not post.on`, `row.meta = {**row.meta,
    k: v}` on a name the function binds, outside nested scopes: the value computed from the attribute's
    own value, each (line, name, attribute). Not a value that only falls back to it (`x.a = new or
    x.a`, `x.a = snapshot.get("a", x.a)`, `x.a = x.a.strip()`): one that writes it back unchanged."""
    found: list[tuple[int, str, str]] = []
    for node, targets, value in _assignments(nodes):
        for target in targets:
            if type(target) is not ast.Attribute or type(target.value) is not ast.Name or target.value.id not in bound:
                continue
            name, attribute = target.value.id, target.attr
            if value is None or _computed_from(value, name, attribute):
                found.append((node.lineno, name, attribute))
    return tuple(found)


def column_stores(nodes: list[Any], bound: frozenset[str]) -> tuple[tuple[int, str, str], ...]:
    """`event.published = True`, `job.status = "sent"`, `post.likes += 1` on a name the function binds,
    outside nested scopes, whatever the value: each (line, name, attribute)."""
    found: list[tuple[int, str, str]] = []
    for node, targets, _value in _assignments(nodes):
        for target in targets:
            if type(target) is ast.Attribute and type(target.value) is ast.Name and target.value.id in bound:
                found.append((node.lineno, target.value.id, target.attr))
    return tuple(found)


_FILTERS = frozenset({"where", "filter", "filter_by"})


def filtered_columns(node: ast.Call) -> tuple[tuple[str, str], ...]:
    """The columns a `.where(...)`/`.filter(...)` call's arguments name on a class path
    (`OutboxEvent.published == False`, `Job.claimed_by.is_(None)`, `models.Job.status.in_(...)`,
    inside `and_(...)`/`or_(...)`): (the path as written, the attribute); `.filter_by(status="new")`'s
    keywords with "" for the path (the query's own entity)."""
    found: list[tuple[str, str]] = []
    if type(node.func) is ast.Attribute and node.func.attr == "filter_by":
        return tuple(("", keyword.arg) for keyword in node.keywords if keyword.arg is not None)
    for given in (*node.args, *(keyword.value for keyword in node.keywords)):
        for inner in ast.walk(given):
            if type(inner) is not ast.Attribute or type(inner.ctx) is not ast.Load:
                continue
            path = dotted(inner.value)
            # a class by its spelling: `user.id` in `Post.owner_id == user.id` is a value compared
            if path and path.rpartition(".")[2][:1].isupper() and (path, inner.attr) not in found:
                found.append((path, inner.attr))
    return tuple(found)


def _computed_from(value: ast.expr, name: str, attribute: str) -> bool:
    """Whether `name.attribute` is an operand of an operator in `value`, or unpacked into a display,
    read there as it is or through `or`/`and` and what is called or indexed on it (`x.a.get(k, 0) + 1`)."""
    parents: dict[int, ast.AST] = {}
    reads: list[ast.Attribute] = []
    for node in ast.walk(value):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if (
            type(node) is ast.Attribute and node.attr == attribute
            and type(node.value) is ast.Name and node.value.id == name
        ):
            reads.append(node)
    for read in reads:
        current: ast.AST = read
        parent = parents.get(id(current))
        while parent is not None:
            if isinstance(parent, (ast.BinOp, ast.UnaryOp, ast.Starred)):
                return True
            if isinstance(parent, ast.Dict) and any(k is None and v is current for k, v in zip(parent.keys, parent.values)):
                return True  # `{**x.a, k: v}`
            passes = (
                isinstance(parent, ast.BoolOp)
                or (isinstance(parent, (ast.Attribute, ast.Subscript)) and parent.value is current)
                or (isinstance(parent, ast.Call) and parent.func is current)
            )
            if not passes:
                break
            current, parent = parent, parents.get(id(parent))
    return False


def _may_change_in_place(nodes: list[Any], declared: set[str]) -> bool:
    """Whether the body (its `OwnNodes.writes`) changes some path in place: an item or attribute
    assigned or deleted, a container's changing method called, a `global` name rebound; only such
    a body is read for check-then-act (`astcollect.check_then_act`)."""
    for node in nodes:
        kind = type(node)
        if kind is ast.Call:
            if type(node.func) is ast.Attribute and node.func.attr in check_then_act.MUTATORS:
                return True
            continue
        targets = node.targets if kind is ast.Assign or kind is ast.Delete else [node.target]
        pending = list(targets)
        while pending:
            target = pending.pop()
            if type(target) in (ast.Tuple, ast.List):
                pending.extend(target.elts)
            elif type(target) is ast.Starred:
                pending.append(target.value)
            elif type(target) in (ast.Subscript, ast.Attribute) or (type(target) is ast.Name and target.id in declared):
                return True
    return False


# Methods writing to a mapping in place.
_MAPPING_WRITES = frozenset({"pop", "popitem", "setdefault", "update", "clear", "__setitem__", "__delitem__"})


def free_writes(nodes: list[Any], bound: frozenset[str]) -> list[tuple[str, int]]:
    """`CACHE[k] = v`, `del CACHE[k]`, `CACHE[k] += 1`, `CACHE.pop(k)`, `CACHE.setdefault(k, v)` on an
    item or attribute path of a name the function does not bind, outside nested scopes: the path as
    written and the line of each first write. `nodes`: the body's `syntax.own_nodes`, or its
    `OwnNodes.writes` (the only nodes read here)."""
    return _container_writes(nodes, lambda container: _free_path(container, bound))


def _container_writes(nodes: list[Any], key: Callable[[ast.expr], str | None]) -> list[tuple[str, int]]:
    """The containers `key` names that an item assignment, deletion or augmented assignment, or a
    mapping method changing them in place, writes to: each key and the line of its first write."""
    found: dict[str, int] = {}
    for node in nodes:
        kind = type(node)
        targets: list[ast.expr] = []
        if kind is ast.Assign or kind is ast.Delete:
            targets = node.targets
        elif kind is ast.AugAssign or kind is ast.AnnAssign:
            targets = [node.target]
        elif kind is ast.Call and type(node.func) is ast.Attribute and node.func.attr in _MAPPING_WRITES:
            name = key(node.func.value)
            if name is not None:
                found.setdefault(name, node.lineno)
            continue
        for target in targets:
            name = key(target.value) if type(target) is ast.Subscript else None
            if name is not None:
                found.setdefault(name, node.lineno)
    return sorted(found.items(), key=lambda item: item[1])


def _free_path(node: ast.expr, bound: frozenset[str]) -> str | None:
    """`caches.users` for a name the function does not bind and its attributes, else None."""
    written = dotted(node)
    if written is None or written.partition(".")[0] in bound:
        return None
    return written


def attribute_updates(nodes: list[Any], owner: str) -> list[tuple[str, int]]:
    """`self.n += 1`, `self.n = self.n + 1`, `self.seen[k] = self.seen.get(k, 0) + 1` on the
    attributes of `owner` (a method's first parameter), outside nested scopes: the attribute and
    the line of its first such update. A plain assignment (`self.cache = build()`) is not one."""

    def attribute(node: ast.expr) -> str | None:
        while type(node) is ast.Subscript:
            node = node.value
        if type(node) is ast.Attribute and type(node.value) is ast.Name and node.value.id == owner:
            return node.attr
        return None

    return _updates(
        nodes,
        attribute,
        lambda value, name: any(attribute(n) == name for n in ast.walk(value) if type(n) is ast.Attribute),
    )


def attribute_writes(nodes: list[Any], owner: str) -> list[tuple[str, int]]:
    """`self.cache[k] = v`, `del self.cache[k]`, `self.cache[k] += 1`, `self.cache.pop(k)`,
    `self.cache.setdefault(k, v)` on an attribute of `owner` (a method's first parameter), outside
    nested scopes: the attribute and the line of its first write. `nodes`: the body's
    `syntax.own_nodes`."""

    def attribute(node: ast.expr) -> str | None:
        if type(node) is ast.Attribute and type(node.value) is ast.Name and node.value.id == owner:
            return node.attr
        return None

    return _container_writes(nodes, attribute)


# Values an attribute store is read for (`Function.attribute_stores`): what may be a Session.
_STORED_VALUES = (ast.Name, ast.Attribute, ast.Call)


def _store_root(node: ast.expr) -> ast.expr:
    """The name an attribute store's receiver starts from, through attributes, items and calls:
    `REGISTRY` for `REGISTRY["x"].repo`, `repo` for `repo`."""
    while True:
        kind = type(node)
        if kind is ast.Attribute or kind is ast.Subscript:
            node = node.value  # type: ignore[attr-defined]
        elif kind is ast.Call:
            node = node.func  # type: ignore[attr-defined]
        else:
            return node


def _parameter_names(args: ast.arguments) -> set[str]:
    return {param.arg for param, _ in syntax.parameters(args)}


def _splatted_name(value: ast.expr) -> str | None:
    """The local name a `*`/`**` argument unpacks: `ctx`, `ctx._asdict()`, `asdict(ctx)`, `vars(ctx)`."""
    if type(value) is ast.Name:
        return value.id
    if type(value) is ast.Call and not value.keywords:
        func = value.func
        if type(func) is ast.Attribute and type(func.value) is ast.Name and not value.args:
            return func.value.id
        if len(value.args) == 1 and type(value.args[0]) is ast.Name:
            return value.args[0].id
    return None


def _starred(call: ast.Call) -> bool:
    return any(type(a) is ast.Starred for a in call.args) or any(k.arg is None for k in call.keywords)


def _catches_all(caught: ast.expr | None) -> bool:
    """Whether an `except` clause catching `caught` catches whatever a call may raise (bare,
    `Exception`, `BaseException`, or a tuple naming one): a worker thread sees no other."""
    if caught is None:
        return True
    if type(caught) is ast.Tuple:
        return any(_catches_all(item) for item in caught.elts)
    return type(caught) is ast.Name and caught.id in ("Exception", "BaseException")


_HANDLERS = {
    ast.Name: BodyScanner._on_name,
    ast.Attribute: BodyScanner._on_attribute,
    ast.keyword: BodyScanner._on_keyword,
    ast.Await: BodyScanner._on_await,
    ast.For: BodyScanner._on_for,
    ast.AsyncFor: BodyScanner._on_for,
    ast.With: BodyScanner._on_with,
    ast.Try: BodyScanner._on_try,
    ast.TryStar: BodyScanner._on_try,
    ast.AsyncWith: BodyScanner._on_async_with,
    ast.comprehension: BodyScanner._on_comprehension,
    ast.GeneratorExp: BodyScanner._on_generator,
    ast.ListComp: BodyScanner._on_generator,
    ast.SetComp: BodyScanner._on_generator,
    ast.DictComp: BodyScanner._on_generator,
    ast.NamedExpr: BodyScanner._on_named_expr,
    ast.AugAssign: BodyScanner._on_aug_assign,
    ast.Yield: BodyScanner._on_yield,
    ast.YieldFrom: BodyScanner._on_yield,
    ast.Return: BodyScanner._on_return,
    ast.Assign: BodyScanner._on_assign,
    ast.AnnAssign: BodyScanner._on_ann_assign,
    ast.Expr: BodyScanner._on_expr,
    ast.If: BodyScanner._on_test,
    ast.While: BodyScanner._on_test,
    ast.Assert: BodyScanner._on_test,
    ast.Call: BodyScanner._on_call,
    ast.Import: BodyScanner._on_import,
    ast.ImportFrom: BodyScanner._on_import_from,
    ast.Global: BodyScanner._on_global,
    ast.Nonlocal: BodyScanner._on_global,
    ast.ExceptHandler: BodyScanner._on_except,
    ast.MatchAs: BodyScanner._on_match_as,
    ast.MatchStar: BodyScanner._on_match_as,
    ast.MatchMapping: BodyScanner._on_match_mapping,
    ast.MatchClass: BodyScanner._on_match_class,
}


# What a local must be built as (or annotated) for its `add_route`/`add_websocket_route` to add a route:
# those names are common outside ASGI frameworks; `add_api_route` is FastAPI's own.
_ROUTING_TYPES = frozenset({*ROUTER_TYPES, "starlette.applications.Starlette", "starlette.routing.Router"})


def _routing_call(
    call: ast.Call, local: frozenset[str], made: dict[str, str | None], annotations: dict[str, tuple[str, ...]]
) -> bool:
    func = call.func
    if type(func) is not ast.Attribute or func.attr not in starlette.REGISTRATION_ATTRS:
        return True
    head = func.value
    while type(head) is ast.Attribute:  # `app.router.add_route(...)`
        head = head.value
    if type(head) is not ast.Name or head.id not in local:
        return True  # a module-level name: the index tells whether it is a router
    return made.get(head.id) in _ROUTING_TYPES or not _ROUTING_TYPES.isdisjoint(annotations.get(head.id, ()))


def _included_routers(
    collector: Collector, node: ast.FunctionDef | ast.AsyncFunctionDef, function: facts.Function
) -> None:
    """`include_router` calls in a function body, as in an application factory (`create_app()`).

    Included into a module-level name, or into a local application (`app = FastAPI()`, a
    parameter annotated `FastAPI`), the prefix composes as at module level; into any other
    local (a router built here with a prefix of its own) the full path is unknown.
    """
    local, found = _locals_and_calls(node, function)
    made: dict[str, str | None] = {}
    for statement in ast.walk(node):
        if type(statement) is ast.Assign and len(statement.targets) == 1 and type(statement.targets[0]) is ast.Name:
            name = statement.targets[0].id
            value = statement.value
            callee = collector.resolve(dotted(value.func), local) if type(value) is ast.Call else None
            made[name] = callee if made.get(name, callee) == callee else None
    annotations = {p.name: p.annotation for p in function.params}
    owner = function.qualname.rpartition(".")[0]
    # in a method, `self.level` names the class's method (the class is collected before its methods)
    method = (
        (function.params[0].name, owner)
        if owner and function.params and any(c.qualname == owner for c in collector.facts.classes)
        else None
    )
    # a function defined in this body and registered by name: `make_router.<locals>.health`
    nested = {
        statement.name: f"{function.qualname}.<locals>.{statement.name}"
        for statement in collector.definitions(node.body) if isinstance(statement, FUNCTIONS)
    }
    loops = loop_targets(ast.walk(node))
    held = held_routers(collector, node, function.qualname) if method is not None else {}
    for call, _ in found:
        module_loops, collector.loops = collector.loops, loops
        collector.hooks(call, local, nested)
        collector.loops = module_loops
        if _routing_call(call, local, made, annotations):
            # a loop variable here is this function's own, not the module's
            module_loops, collector.loops = collector.loops, loops
            before = len(collector.facts.registrations)
            collector.registration(call, local, method, nested, held)
            collector.loops = module_loops
            receiver = call.func.value if type(call.func) is ast.Attribute else None
            if type(receiver) is ast.Name and receiver.id in local and made.get(receiver.id):
                for added in collector.facts.registrations[before:]:
                    added.router_call = made[receiver.id]
            for added in collector.facts.registrations[before:]:
                if added.endpoint is None and added.written is not None and (
                    _decorator_parameter(node, call, added.written) or _forwarded_endpoint(node, added.written)
                ):
                    added.sources, added.decorates = (), function.qualname
        func = call.func
        if type(func) is not ast.Attribute or func.attr not in (INCLUDE_ROUTER, starlette.MOUNT):
            continue
        add = collector.include if func.attr == INCLUDE_ROUTER else collector.mount
        base = func.value.id if type(func.value) is ast.Name else None
        # a loop variable here is this function's own (`for router, prefix in ROUTERS:`)
        module_loops, collector.loops = collector.loops, loops
        try:
            if base is None or base not in local:
                add(call, collector.ref(func.value, local), local)
                continue
            application = made.get(base) in APPLICATION_TYPES or (
                base not in made and not APPLICATION_TYPES.isdisjoint(annotations.get(base, ()))
            )
            if func.attr == starlette.MOUNT and not application:
                continue  # a local that is no application: `requests.Session().mount(...)`
            before = len(collector.facts.registrations)
            add(call, None, local, known=application)
            if application:  # what made the application, as for the routes added on it
                made_by = made.get(base) or min(APPLICATION_TYPES.intersection(annotations.get(base, ())))
                for added in collector.facts.registrations[before:]:
                    added.router_call = made_by
        finally:
            collector.loops = module_loops


def _forwarded_endpoint(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    """Whether `name` is a parameter of a router class's own registration method that hands it on
    (`def add_api_route(self, path, endpoint, **kwargs): ... super().add_api_route(path, endpoint)`):
    what calls the method registers the route, read there."""
    return node.name in ROUTER_OVERRIDES and any(
        arg.arg == name for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
    )


def _decorator_parameter(node: ast.AST, call: ast.Call, name: str) -> bool:
    """Whether `name` is a parameter of a function nested in `node` that holds `call` (the
    decorator a route method defines: `def decorator(func): self.add_api_route(path, func)`)."""
    if not name.isidentifier():
        return False
    for inner in ast.walk(node):
        if inner is node or not isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not inner.lineno <= call.lineno <= (inner.end_lineno or inner.lineno):
            continue
        if any(arg.arg == name for arg in (*inner.args.posonlyargs, *inner.args.args, *inner.args.kwonlyargs)):
            return True
    return False
