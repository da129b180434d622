"""Local names that only ever hold a method of a local value, or a function, to be called later.

`finish = db.commit`, `finish = functools.partial(db.commit)`, `save = lambda: db.commit()`,
`for step in [db.flush, db.commit]`: calling the name (`finish()`) calls that method. On an
AsyncSession it makes a coroutine, which only an `await` runs (check's AM311 reads these).
`runner = functools.partial(run_in_session, count)`, `runner = crud.count`, `runner =
partial(Repo(db).count)`: calling the name calls that function (`Function.held_functions`, a call the call graph follows as an object edge).
A name bound any other way as well in the same scope is left out: what it holds is not known.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from collections.abc import Set as AbstractSet

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import dotted, own_nodes

_PARTIALS = ("partial", "functools.partial")
_FUNCTION = "()"  # the receiver of what `_method` reads as a function held by name


def read(
    node: ast.FunctionDef | ast.AsyncFunctionDef, function: facts.Function, resolve: Callable[[str], str | None],
    local: AbstractSet[str],
) -> None:
    """Fill `function.deferred` and `function.held_functions` from the body's own statements (not
    nested scopes). `resolve`: a dotted name written in the body as a reference; `local`: its local names."""
    held: dict[str, list[tuple[str, str] | None]] = {}
    for current in own_nodes(node.body):
        kind = type(current)
        if kind is ast.Assign:
            for target in current.targets:
                _bind(held, target, [_method(current.value)])
        elif kind is ast.AnnAssign or kind is ast.AugAssign or kind is ast.NamedExpr:
            _bind(held, current.target, [None if kind is ast.AugAssign else _method(current.value)])
        elif kind is ast.For or kind is ast.AsyncFor or kind is ast.comprehension:
            items = current.iter
            values: list[tuple[str, str] | None] = (
                [_method(e) for e in items.elts] if type(items) in (ast.List, ast.Tuple) else [None]
            )
            _bind(held, current.target, values or [None])
        elif kind in (ast.With, ast.AsyncWith):
            for item in current.items:
                if item.optional_vars is not None:
                    _bind(held, item.optional_vars, [None])
    for name, values in held.items():
        if not values or any(value is None for value in values):
            continue
        # a name holding a method of a local value every time, or a function every time: either
        kinds = {value[0] != _FUNCTION and value[0][1:].partition(".")[0] in local for value in values}  # type: ignore[index]
        if kinds == {True}:
            function.deferred.extend((name, receiver, method) for receiver, method in values)  # type: ignore[misc]
        elif kinds == {False}:
            for receiver, method in values:  # type: ignore[misc]
                ref = resolve(method if receiver == _FUNCTION else f"{receiver[1:]}.{method}")
                if ref is not None:
                    function.held_functions.append((name, ref))


def _bind(held: dict[str, list[tuple[str, str] | None]], target: ast.expr, values: list[tuple[str, str] | None]) -> None:
    if type(target) is ast.Name:
        held.setdefault(target.id, []).extend(values)
    elif type(target) in (ast.Tuple, ast.List, ast.Starred):
        for inner in ast.walk(target):
            if type(inner) is ast.Name:
                held.setdefault(inner.id, []).append(None)


def _method(value: ast.expr | None) -> tuple[str, str] | None:
    """(`$db`, `commit`) for `db.commit`, `partial(db.commit, ...)`, `lambda ...: db.commit(...)`;
    (`_FUNCTION`, `run_in_session`) for `partial(run_in_session, ...)` and a bare name."""
    if value is None:
        return None
    if type(value) is ast.Call and dotted(value.func) in _PARTIALS and value.args:
        value = value.args[0]
    elif type(value) is ast.Lambda and type(value.body) is ast.Call:
        value = value.body.func
    if type(value) is ast.Name:
        return _FUNCTION, value.id
    if type(value) is not ast.Attribute:
        return None
    if type(value.value) is ast.Call:
        # `partial(UserRepo(db).list)`: the method of an instance built in place, held as the
        # class's function (None where the callee is no class: resolving `make_repo.list` fails)
        built = dotted(value.value.func)
        return (_FUNCTION, f"{built}.{value.attr}") if built is not None else None
    receiver = dotted(value.value)
    if receiver is None:
        return None
    return f"${receiver}", value.attr
