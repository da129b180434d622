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


def _super_call(node: ast.AST, name: str) -> bool:
    """`super().name(...)`."""
    if type(node) is not ast.Call or type(node.func) is not ast.Attribute or node.func.attr != name:
        return False
    inner = node.func.value
    return type(inner) is ast.Call and type(inner.func) is ast.Name and inner.func.id == "super"


def hands_to_super(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the override hands the endpoint to the base class's own method untouched: the
    endpoint parameter (named `endpoint`, else the one after `path`) read only as the endpoint
    argument of `super().<its name>(...)`; for a decorator builder, no function of its own (nor
    lambda, nor class) and every return `super().<its name>(...)`. False where the analysis
    cannot show it, which keeps the routes registered through it."""
    name = node.name
    if name in _DECORATOR_BUILDERS:
        returns = []
        for inner in ast.walk(node):
            if inner is not node and isinstance(inner, _SCOPES):
                return False
            if type(inner) is ast.Return:
                returns.append(inner.value)
        return bool(returns) and all(value is not None and _super_call(value, name) for value in returns)
    params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    endpoint = next((p.arg for p in params if p.arg == "endpoint"), params[2].arg if len(params) > 2 else None)
    if endpoint is None:
        return False
    handed: set[int] = set()
    reads: list[ast.Name] = []
    for inner in ast.walk(node):
        if _super_call(inner, name):
            call: ast.Call = inner  # type: ignore[assignment]
            if len(call.args) > 1 and type(call.args[1]) is ast.Name:
                handed.add(id(call.args[1]))
            handed.update(id(k.value) for k in call.keywords if k.arg == "endpoint" and type(k.value) is ast.Name)
        elif type(inner) is ast.Name and inner.id == endpoint:
            reads.append(inner)
        elif type(inner) is ast.arg and inner.arg == endpoint and not any(inner is p for p in params):
            return False  # a nested scope's own parameter of that name: not read here
    return bool(handed) and all(id(read) in handed for read in reads)


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
