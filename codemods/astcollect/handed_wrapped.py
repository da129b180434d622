"""Where a decorator hands on the function it decorates (or the wrapper it builds around it)
other than by returning it: `JOBS.append(fn)`, `REGISTRY[fn.__name__] = fn`, `scheduler.add(wrapper)`.

What receives it gets the `async def` as it is (a route decorator returns the function it
registers, so one listed above it receives the coroutine function too), and may await it later.
Reading it (`fn.__name__`, `inspect.signature(fn)`, `functools.wraps(fn)`) hands nothing on, nor
does handing it to a function of the same module that only reads it and returns none of it
(`wrapper.__signature__ = _without_db(fn)`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

# Calls reading a function without keeping it.
_READERS = frozenset({
    "wraps", "update_wrapper", "signature", "iscoroutinefunction", "isasyncgenfunction", "isgeneratorfunction",
    "isfunction", "ismethod", "isclass", "isinstance", "callable", "getattr", "hasattr", "setattr", "id", "repr",
    "str", "get_type_hints", "getfullargspec", "getmodule", "getdoc", "getsourcefile", "unwrap",
})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
# How deep same-module helpers handed the function are read (`_signature(fn)` calling `_strip(fn)`).
_DEPTH = 3
Defs = dict[str, "ast.FunctionDef | ast.AsyncFunctionDef"]


def handed_on(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    wrapped: str,
    code: Callable[[ast.AST], str],
    defs: Defs | None = None,
    depth: int = 0,
) -> tuple[int, str] | None:
    """(line, statement as written) of the first place the decorator whose parameter `wrapped`
    holds the decorated function (`node`, or the decorator a factory defines in it) hands that
    function or a wrapper of its own on; None where it only reads and returns them. `defs`: the
    module's top-level functions by name, whose calls are read through."""
    owner = _owner(node, wrapped)
    if owner is None:
        return None
    held = {wrapped} | {s.name for s in ast.walk(owner) if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s is not owner}
    parents: dict[int, ast.AST] = {}
    pending: list[ast.AST] = [*owner.body]
    statement: dict[int, ast.stmt] = {}
    for top in owner.body:
        statement[id(top)] = top
    while pending:
        current = pending.pop()
        if isinstance(current, _SCOPES):
            # a nested def's decorators and defaults run here, its body when it is called
            outer = [*getattr(current, "decorator_list", ())]
            if not isinstance(current, ast.ClassDef):
                outer += [*current.args.defaults, *(d for d in current.args.kw_defaults if d is not None)]
            children: list[ast.AST] = outer
        else:
            children = list(ast.iter_child_nodes(current))
        for child in children:
            parents[id(child)] = current
            statement.setdefault(id(child), statement.get(id(current), current))  # type: ignore[arg-type]
            pending.append(child)
        if type(current) is ast.Name and current.id in held and type(current.ctx) is ast.Load:
            if not _harmless(current, parents) and not _read_by_helper(current, parents, defs or {}, code, depth):
                found = statement.get(id(current), current)
                return found.lineno, code(found).strip().splitlines()[0]
    return None


def _owner(node: ast.FunctionDef | ast.AsyncFunctionDef, wrapped: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The def whose parameter `wrapped` is: the node, or a decorator a factory defines in it."""
    for inner in ast.walk(node):
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            a.arg == wrapped for a in (*inner.args.posonlyargs, *inner.args.args, *inner.args.kwonlyargs)
        ):
            return inner
    return None


def _harmless(name: ast.Name, parents: dict[int, ast.AST]) -> bool:
    parent = parents.get(id(name))
    if type(parent) is ast.Return:
        return True
    if type(parent) in (ast.Attribute, ast.Compare):  # `fn.__name__`, `fn.tag = "x"`, `fn is None`
        return True
    if type(parent) is ast.Call and name is not parent.func:
        func = parent.func
        called = func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else None
        if called in _READERS:
            return True
        # `return functools.wraps(fn)(wrapper)`: the wrapper returned
        return type(func) is ast.Call and type(parents.get(id(parent))) is ast.Return
    if type(parent) is ast.Call and name is parent.func:
        return True  # called at decoration: a coroutine made and dropped, which AM113's callers do not cover either
    return False


def _read_by_helper(name: ast.Name, parents: dict[int, ast.AST], defs: Defs, code: Callable[[ast.AST], str], depth: int) -> bool:
    """Whether `name` is an argument of a call to a function of the module that only reads the
    parameter it lands in and returns nothing of it (what it returns is then no hand-over)."""
    call = parents.get(id(name))
    if type(call) is not ast.Call or type(call.func) is not ast.Name or depth >= _DEPTH:
        return False
    helper = defs.get(call.func.id)
    if helper is None or any(type(a) is ast.Starred for a in call.args) or any(k.arg is None for k in call.keywords):
        return False
    positional = [*helper.args.posonlyargs, *helper.args.args]
    param: str | None
    if name in call.args:
        index = call.args.index(name)
        if index >= len(positional):
            return False
        param = positional[index].arg
    else:
        param = next((k.arg for k in call.keywords if k.value is name), None)
        if param is None or param not in {a.arg for a in (*positional, *helper.args.kwonlyargs)}:
            return False
    returned = any(
        type(r) is ast.Return and r.value is not None and any(
            type(n) is ast.Name and n.id == param for n in ast.walk(r.value)
        ) for r in ast.walk(helper)
    )
    return not returned and handed_on(helper, param, code, defs, depth + 1) is None
