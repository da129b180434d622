"""What the parameters of a function's own nested functions and lambdas are handed.

`sorted(books, key=lambda b: b.author.name)`, `max(orders, key=by_total)`, `books.sort(key=...)`,
`map(lambda b: ..., books)`, `filter(...)` call the function they are given on each element of the
iterable; `def fmt(o): ...` (or `fmt = lambda o: ...`) called in the body as `fmt(book)` gets `book`. The object flow
(`objects.py`) reads such a parameter as those values, so a relationship read there traces to the
query that loaded them. Only where every value is seen: a nested function named anywhere else (handed
on, called inside another nested scope, itself included), defined twice or rebound, a parameter the
scope binds again, and one no call fills, keep holding what the flow cannot follow.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterable

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Builtins calling the function given as `key=` on each element of their one positional argument.
_KEYED = frozenset({"sorted", "min", "max"})
# Builtins calling the function given first on each element of the iterable given second.
_MAPPING = frozenset({"map", "filter"})

# How a parameter is filled: ("iter", the iterable whose elements it gets) or ("arg", the argument).
Handed = tuple[str, ast.expr]


def handed(
    function: ast.FunctionDef | ast.AsyncFunctionDef, nodes: Iterable[ast.AST], local: frozenset[str],
    nested: Iterable[ast.AST] | None = None,
) -> dict[int, dict[str, list[Handed]]]:
    """id of a nested function or lambda of the own body (`nodes`: its walk outside nested scopes)
    -> each parameter every value of which is known -> those values. `nested`: the scopes among
    `nodes` (`OwnNodes.scopes`), when the caller has them: most bodies have none, and are not
    walked here."""
    scopes = [n for n in (nodes if nested is None else nested) if isinstance(n, (*_DEFS, ast.Lambda))]
    if not scopes:
        return {}
    nodes = list(nodes) if not isinstance(nodes, list) else nodes
    defined = Counter(n.name for n in scopes if isinstance(n, _DEFS))
    stored = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    defs: dict[str, ast.AST] = {
        n.name: n for n in scopes if isinstance(n, _DEFS) and defined[n.name] == 1 and n.name not in stored
        and not n.decorator_list
    }
    # `key = lambda u: u.score()`, bound once and to nothing else: called or handed as a nested
    # function is
    stores = Counter(n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    for item in nodes:
        if (
            isinstance(item, ast.Assign) and isinstance(item.value, ast.Lambda) and len(item.targets) == 1
            and isinstance(item.targets[0], ast.Name) and stores[item.targets[0].id] == 1
            and item.targets[0].id not in defined
        ):
            defs[item.targets[0].id] = item.value
    found: dict[int, dict[str, list[Handed]]] = {}
    accounted: Counter[str] = Counter()  # a nested function's name read where it is called or handed to a caller above
    sites: Counter[int] = Counter()  # the calls of each scope: each fills a parameter, or its default does

    def element_of(scope_node: ast.expr, iterable: ast.expr) -> None:
        target: ast.AST | None = scope_node
        if isinstance(scope_node, ast.Name):
            target = defs.get(scope_node.id)
            if target is None:
                return
            accounted[scope_node.id] += 1
        if isinstance(target, (*_DEFS, ast.Lambda)):
            sites[id(target)] += 1
            params = _positional(target)
            if params:
                found.setdefault(id(target), {}).setdefault(params[0], []).append(("iter", iterable))

    for item in nodes:
        if not isinstance(item, ast.Call) or any(isinstance(a, ast.Starred) for a in item.args):
            continue
        func = item.func
        key = next((k.value for k in item.keywords if k.arg == "key"), None)
        if isinstance(func, ast.Name) and func.id not in local:
            if func.id in _KEYED and key is not None and len(item.args) == 1:
                element_of(key, item.args[0])
            elif func.id in _MAPPING and len(item.args) == 2 and not item.keywords:
                element_of(item.args[0], item.args[1])
        elif isinstance(func, ast.Attribute) and func.attr == "sort" and key is not None and not item.args:
            element_of(key, func.value)
        if isinstance(func, ast.Name) and func.id in defs and all(k.arg is not None for k in item.keywords):
            accounted[func.id] += 1
            target = defs[func.id]
            sites[id(target)] += 1
            params = _positional(target)
            given = found.setdefault(id(target), {})
            for param, arg in zip(params, item.args):
                given.setdefault(param, []).append(("arg", arg))
            for keyword in item.keywords:
                if keyword.arg in params[len(item.args):]:
                    given.setdefault(keyword.arg, []).append(("arg", keyword.value))
    # a nested function named anywhere else may be called with anything
    named = Counter(n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))
    for name, target in defs.items():
        if named[name] != accounted[name]:
            found.pop(id(target), None)
    for scope in scopes:
        filled = found.get(id(scope))
        if not filled:
            continue
        params = _positional(scope)
        binds = Counter(
            n.arg if isinstance(n, ast.arg) else n.id for n in ast.walk(scope)
            if isinstance(n, ast.arg) or (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
        )
        for param in list(filled):
            # bound again inside, or not filled by every call (its default then)
            if binds[param] != 1 or param not in params or len(filled[param]) != sites[id(scope)]:
                del filled[param]
    return found


def _positional(scope: ast.AST) -> list[str]:
    """The positional parameters of a nested function or lambda, in order (none after `*args`)."""
    arguments = scope.args  # type: ignore[attr-defined]
    return [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
