"""Methods called, with no `await` that could run them, on a value a nested function or lambda is
handed as the default of its parameter (`(lambda s=db: s.commit())()`, `def save(s=db): s.commit()`).

On an AsyncSession such a call makes a coroutine. A plain nested scope cannot await it: it is lost
unless the scope hands it back (a lambda's body, `return s.commit()`) and every call of the scope
is awaited. `read` records each call that nothing runs: one the scope discards, and one it hands
back to a call of the scope that is not awaited (`(lambda s=db: s.commit())()`, `f()` for a nested
`def f(s=db): return s.commit()`). A scope used any other way as well (handed to a call,
`db.run_sync(lambda s=db: ...)`, kept in a container) is left out: what runs it is elsewhere.
"""

from __future__ import annotations

import ast

from async_migrate.codemods import facts


def read(node: ast.FunctionDef | ast.AsyncFunctionDef, function: facts.Function) -> None:
    """Fill `function.default_calls` with (line, parameter, default, method) for each such call in
    the nested plain scopes of `node`."""
    parents: dict[int, ast.AST] = {}
    for parent in ast.walk(node):
        for child in ast.iter_child_nodes(parent):
            parents[id(child)] = parent
    for scope in ast.walk(node):
        if scope is node or type(scope) not in (ast.Lambda, ast.FunctionDef):
            continue
        defaults = _bare_defaults(scope.args)  # type: ignore[attr-defined]
        if not defaults:
            continue
        runs = _runs(scope, parents, node)
        if runs is None:
            continue
        for call, param in _calls_on(scope, defaults):
            returned = _handed_back(call, scope, parents)
            if returned and runs:  # every call of the scope is awaited, or it hands the coroutine on
                continue
            function.default_calls.append((call.lineno, param, defaults[param], call.func.attr))  # type: ignore[attr-defined]


def _bare_defaults(args: ast.arguments) -> dict[str, str]:
    positional = [*args.posonlyargs, *args.args]
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    return {a.arg: d.id for a, d in pairs if type(d) is ast.Name}


def _calls_on(scope: ast.AST, defaults: dict[str, str]) -> list[tuple[ast.Call, str]]:
    """`param.method(...)` calls in the scope's own body (not in scopes nested deeper), with no `await`."""
    body = [scope.body] if type(scope) is ast.Lambda else list(scope.body)  # type: ignore[attr-defined]
    found = []
    stack: list[ast.AST] = list(body)
    while stack:
        item = stack.pop()
        if type(item) in (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            continue
        if (
            type(item) is ast.Call and type(item.func) is ast.Attribute
            and type(item.func.value) is ast.Name and item.func.value.id in defaults
        ):
            found.append((item, item.func.value.id))
        stack.extend(ast.iter_child_nodes(item))
    return found


def _handed_back(call: ast.Call, scope: ast.AST, parents: dict[int, ast.AST]) -> bool:
    """Whether the scope may hand the call's coroutine to its caller or to another call: a lambda's
    body, a `return` of it, or an argument of some call (which may run it); a statement alone is not."""
    parent = parents.get(id(call))
    if type(scope) is ast.Lambda:
        return parent is scope
    return type(parent) is not ast.Expr


def _runs(scope: ast.AST, parents: dict[int, ast.AST], node: ast.AST) -> bool | None:
    """How the enclosing function uses the scope: True when every call of it is awaited and it is
    used no other way, False when some call of it is not awaited and it is used no other way,
    None when it is used otherwise (handed to a call, kept, returned) or never called."""
    parent = parents.get(id(scope))
    if type(scope) is ast.Lambda:
        if type(parent) is ast.Call and parent.func is scope:
            return type(parents.get(id(parent))) is ast.Await
        if type(parent) is ast.Assign and len(parent.targets) == 1 and type(parent.targets[0]) is ast.Name:
            name = parent.targets[0].id
        else:
            return None
    else:
        name = scope.name  # type: ignore[attr-defined]
    awaited: list[bool] = []
    for other in ast.walk(node):
        if type(other) is not ast.Name or other.id != name or type(other.ctx) is not ast.Load:
            continue
        call = parents.get(id(other))
        if type(call) is not ast.Call or call.func is not other:
            return None
        awaited.append(type(parents.get(id(call))) is ast.Await)
    if not awaited:
        return None
    return all(awaited)
