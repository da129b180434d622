"""What a router's or route class's own methods do with the endpoint they register.

A project `APIRouter` subclass overriding `add_api_route` (or `api_route`), or an `APIRoute`
subclass overriding `__init__`, receives every endpoint registered through it: one wrapping it
in `async def timed(*a, **k): return await endpoint(*a, **k)` needs a coroutine function. Read
here: whether an override only hands the endpoint to the base class's own method (`return
super().add_api_route(path, endpoint, **kwargs)`), which FastAPI then treats as ever, and the
lines where a method reads its instance's endpoint (`self.endpoint`, `self.dependant.call`).
"""

from __future__ import annotations

import ast

from async_migrate.codemods.vocabulary.fastapi import ROUTER_OVERRIDES

# The overrides building the decorator: the endpoint reaches the function they return.
_DECORATOR_BUILDERS = frozenset({"api_route", "api_websocket_route"})
# The methods taking the endpoint as a parameter: `add_api_route(self, path, endpoint, ...)`,
# `APIRoute.__init__(self, path, endpoint, ...)`.
RECEIVING = ROUTER_OVERRIDES | {"__init__"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


# Calls reading a function without keeping it (`get_type_hints(endpoint)`, `endpoint.__name__`).
_READERS = frozenset({
    "get_type_hints", "signature", "iscoroutinefunction", "getdoc", "getmodule", "isinstance", "callable",
    "getattr", "hasattr", "repr", "str", "id",
})
_TAKING = ROUTER_OVERRIDES | {"__init__"}
# What returns FastAPI's own route decorator, on `super()` or the router itself.
_DECORATING = ROUTER_OVERRIDES | {"get", "put", "post", "delete", "options", "head", "patch", "trace", "websocket"}


def _super_call(node: ast.AST | None, names: frozenset[str] | set[str], first: str | None = None) -> bool:
    """`super().name(...)` (or `self.name(...)`, `first` being the method's `self`) for a name in `names`."""
    if type(node) is not ast.Call or type(node.func) is not ast.Attribute or node.func.attr not in names:
        return False
    inner = node.func.value
    if first is not None and type(inner) is ast.Name and inner.id == first:
        return True
    return type(inner) is ast.Call and type(inner.func) is ast.Name and inner.func.id == "super"


def hands_to_super(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the override hands the endpoint to FastAPI's own registration untouched: the
    endpoint (its parameter `endpoint`, else the one after `path`; or inside `*args`/`**kwargs`
    passed on whole) read only as the endpoint argument of `super().<its name>(...)` or
    `self.add_api_route(...)`, or by what only reads it (`endpoint.__name__`,
    `get_type_hints(endpoint)`); for a decorator builder (`api_route`), every decorator it
    returns is `super()`'s or one of its own so handing on its parameter (or calling a decorator
    `super().api_route(...)` returned: fides' two paths). False where the analysis cannot show it,
    which keeps the routes registered through it."""
    params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    first = params[0].arg if params else None
    if node.name in _DECORATOR_BUILDERS:
        nested = {s.name: s for s in node.body if type(s) is ast.FunctionDef}
        registrars = {
            target.id for s in node.body if type(s) is ast.Assign and _super_call(s.value, _DECORATING, first)
            for target in s.targets if type(target) is ast.Name
        }
        returns = [s.value for s in _own(node) if type(s) is ast.Return]
        if not returns:
            return False
        for value in returns:
            if value is not None and _super_call(value, _DECORATING, first):
                continue
            inner = nested.get(value.id) if type(value) is ast.Name else None
            inner_params = [*inner.args.posonlyargs, *inner.args.args] if inner is not None else []
            if inner is None or len(inner_params) != 1 or not _only_handed(inner, inner_params[0].arg, first, registrars):
                return False
        return True
    endpoint = next((p.arg for p in params if p.arg == "endpoint"), params[2].arg if len(params) > 2 else None)
    if endpoint is None and node.args.vararg is None and node.args.kwarg is None:
        return False
    variadic = {a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None}
    if endpoint is None and not _passed_whole(node, variadic, node.name):
        return False
    return endpoint is None or _only_handed(node, endpoint, first, set(), node.name)


def _own(node: ast.AST) -> list[ast.AST]:
    """The nodes of a function's own body, not of the scopes nested in it."""
    found, pending = [], list(ast.iter_child_nodes(node))
    while pending:
        current = pending.pop()
        found.append(current)
        if not isinstance(current, _SCOPES):
            pending.extend(ast.iter_child_nodes(current))
    return found


def _parents(node: ast.AST) -> dict[int, ast.AST]:
    return {id(child): parent for parent in ast.walk(node) for child in ast.iter_child_nodes(parent)}


def _only_handed(
    scope: ast.FunctionDef | ast.AsyncFunctionDef, endpoint: str, first: str | None, registrars: set[str],
    own: str | None = None,
) -> bool:
    """Every read of `endpoint` in `scope` (nested scopes too) hands it to FastAPI's registration
    or only reads it; a nested scope's own parameter of that name: not shown."""
    parents = _parents(scope)
    taking = frozenset({own}) if own is not None and own not in ROUTER_OVERRIDES else _TAKING
    declared = {id(a) for a in (*scope.args.posonlyargs, *scope.args.args, *scope.args.kwonlyargs)}
    for inner in ast.walk(scope):
        if type(inner) is ast.arg and inner.arg == endpoint and id(inner) not in declared:
            return False
        if type(inner) is not ast.Name or inner.id != endpoint:
            continue
        parent = parents.get(id(inner))
        if type(parent) is ast.keyword:
            if parent.arg == "endpoint" and _super_call(parents.get(id(parent)), taking, first):
                continue
            return False
        if type(parent) is ast.Call and inner is not parent.func:
            call = parent
            func = call.func
            called = func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else None
            if _super_call(call, taking, first) and len(call.args) > 1 and call.args[1] is inner:
                continue
            if type(func) is ast.Name and func.id in registrars and call.args == [inner]:
                continue
            if called in _READERS:
                continue
            return False
        if type(parent) is ast.Attribute and parent.attr.startswith("__") or type(parent) in (ast.Return, ast.Compare):
            continue
        return False
    return True


def _passed_whole(node: ast.FunctionDef | ast.AsyncFunctionDef, variadic: set[str], name: str) -> bool:
    """`*args`/`**kwargs` read only to be passed on whole to `super().<name>(...)`."""
    parents = _parents(node)
    for inner in ast.walk(node):
        if type(inner) is not ast.Name or inner.id not in variadic:
            continue
        parent = parents.get(id(inner))
        grand = parents.get(id(parent)) if parent is not None else None
        if type(parent) is ast.Starred and _super_call(grand, {name}):
            continue
        if type(parent) is ast.keyword and parent.arg is None and _super_call(grand, {name}):
            continue
        return False
    return True


def endpoint_reads(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, ...]:
    """Lines where a method reads its instance's endpoint: `self.endpoint`, `self.dependant.call`."""
    params = [*node.args.posonlyargs, *node.args.args]
    if not params:
        return ()
    first = params[0].arg
    lines = []
    for inner in ast.walk(node):
        if type(inner) is not ast.Attribute:
            continue
        owner = inner.value
        if inner.attr == "call" and type(owner) is ast.Attribute and owner.attr == "dependant":
            owner = owner.value
        elif inner.attr != "endpoint":
            continue
        if type(owner) is ast.Name and owner.id == first:
            lines.append(inner.lineno)
    return tuple(sorted(set(lines)))
