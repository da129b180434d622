"""Coroutines that reach a scheduler other than as its direct argument, read on `ast`.

`gather(f(db))` is seen through `facts.Call.argument_of`; these are the other spellings of the
same hand-off: inside an argument (`gather(*[f(db) for i in ids])`, `wait([f(db), g()])`), or
through a local name (`coros = [f(db) ...]`, `coros.append(f(db))`, then `gather(*coros)`).
Where a starred argument (or the iterable `wait`/`as_completed` take) is something whose
elements the function does not build itself, the scheduler records it as unread, and phase
two decides what to do about it (`phase2.scheduled`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import (
    Source,
    last_name,
    own_nodes,
    parameters,
    text,
    unpacked_pairs,
)
from async_migrate.codemods.vocabulary.python import TASK_METHODS, TASK_WRAPPERS

# The last name of every call that may schedule a coroutine: the index resolves which do.
SCHEDULING = frozenset({*(name.rpartition(".")[2] for name in TASK_WRAPPERS), *TASK_METHODS})
# `loop.run_in_executor(None, f, db)` submits `f` to a thread at once and returns its future: not
# awaited in place (`fut = ...`, `await fut` later), it runs beside the caller as a task does.
STARTED = "run_in_executor"
# Schedulers taking an iterable of coroutines, not coroutines one by one.
_ITERABLE = frozenset({"wait", "as_completed"})
# In-place additions to a local list, deque or set.
_ADDS = frozenset({"append", "extend", "insert", "add", "appendleft", "extendleft"})
_BUILT = (ast.List, ast.Tuple, ast.Set, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.Call)


def schedules(function: facts.Function) -> bool:
    """Whether any call of the function may be a scheduler (the cheap test before the walk)."""
    return any(
        (call.method or (call.callee or call.func or "").rpartition(".")[2]) in SCHEDULING for call in function.calls
    )


def starts(function: facts.Function) -> bool:
    """Whether the function may start a future in a thread (`loop.run_in_executor(...)`)."""
    return any(call.method == STARTED for call in function.calls if not call.offloaded)


def hold_started(node: ast.FunctionDef | ast.AsyncFunctionDef, calls: dict[int, facts.Call], nodes: list[Any] | None) -> None:
    """`fut = loop.run_in_executor(...)`: the local name holding the future, which `beside` reads
    as where it is joined (`await fut`). Only these calls: in a function that schedules nothing,
    `read` is not run, and what other calls' `held_in` says is left as it was."""
    for inner in own_nodes(node.body) if nodes is None else nodes:
        if type(inner) is ast.Assign and len(inner.targets) == 1 and type(inner.targets[0]) is ast.Name:
            value = inner.value
            if type(value) is ast.Call and last_name(value.func) == STARTED:
                found = calls.get(id(value.func))
                if found is not None and found.held_in is None:
                    found.held_in = inner.targets[0].id


def read(
    source: Source, node: ast.FunctionDef | ast.AsyncFunctionDef, calls: dict[int, facts.Call],
    nodes: list[Any] | None = None,
) -> None:
    """Fill `within`, `held_in`, `handed` and `unread` of the calls (`calls` by the id of the
    called expression) of one function body. `nodes`: the body's `own_nodes`, when the caller has them."""
    assigned: set[str] = set()  # names only plain assignments bind
    other: set[str] = {p.arg for p, _ in parameters(node.args)}  # names bound otherwise
    schedulers: list[tuple[ast.Call, facts.Call]] = []
    for inner in own_nodes(node.body) if nodes is None else nodes:  # not into nested scopes: what runs there is another's
        kind = type(inner)
        if kind is ast.Assign or kind is ast.AnnAssign or kind is ast.AugAssign:
            targets = inner.targets if kind is ast.Assign else [inner.target]
            value = inner.value
            for target in targets:
                if type(target) is ast.Name and value is not None:
                    # `coros = tasks` holds what a parameter brings: only what is built here is read
                    (assigned if isinstance(value, _BUILT) else other).add(target.id)
                    _hold(value, target.id, calls)
                elif value is not None and unpacked_pairs(target, value):
                    # `a, b = f(db), g(db)`: each name holds what stands at its place
                    for name, item in unpacked_pairs(target, value):
                        (assigned if isinstance(item, _BUILT) else other).add(name)
                        _hold(item, name, calls)
                else:
                    other.update(_bound(target))
        elif kind is ast.NamedExpr:
            (assigned if isinstance(inner.value, _BUILT) else other).add(inner.target.id)
            _hold(inner.value, inner.target.id, calls)
        elif kind is ast.For or kind is ast.AsyncFor or kind is ast.comprehension:
            other.update(_bound(inner.target))
        elif kind is ast.withitem and inner.optional_vars is not None:
            other.update(_bound(inner.optional_vars))
        elif kind is ast.Global or kind is ast.Nonlocal:
            other.update(inner.names)
        elif kind is ast.Call:
            func = inner.func
            if type(func) is ast.Attribute and func.attr in _ADDS and type(func.value) is ast.Name:
                for argument in [*inner.args, *(k.value for k in inner.keywords)]:
                    _hold(argument, func.value.id, calls)
            call = calls.get(id(func))
            if last_name(func) in SCHEDULING and call is not None:
                schedulers.append((inner, call))
    told = assigned - other
    for node_call, call in schedulers:
        handed: list[str] = []
        unread: list[str] = []
        iterable = last_name(node_call.func) in _ITERABLE
        for position, argument in enumerate([*node_call.args, *(k.value for k in node_call.keywords)]):
            spread = type(argument) is ast.Starred
            value = argument.value if type(argument) is ast.Starred else argument
            if spread or (iterable and position == 0):
                if not (isinstance(value, _BUILT) or (type(value) is ast.Name and value.id in told)):
                    unread.append(("*" if spread else "") + text(source, value))
            for inner in _passed(value):
                if type(inner) is ast.Call and inner is not value:
                    found = calls.get(id(inner.func))
                    if found is not None and call.index not in found.within:
                        found.within = (*found.within, call.index)
                elif type(inner) is ast.Name and inner.id not in handed:
                    handed.append(inner.id)
        call.handed = tuple(handed)
        call.unread = tuple(unread)


def _hold(value: ast.AST | None, name: str, calls: dict[int, facts.Call]) -> None:
    """The calls under a value a local name is given hold their coroutines in it."""
    if value is None:
        return
    for inner in _passed(value):
        if type(inner) is ast.Call:
            found = calls.get(id(inner.func))
            if found is not None and found.held_in is None:
                found.held_in = name


def _passed(value: ast.AST) -> Iterator[ast.AST]:
    """The nodes whose value an expression passes on as (part of) its own: itself, the elements of
    a display or comprehension (and what the comprehension goes over), either branch of a
    conditional, and what a scheduler-like call is handed (`wait_for(f(db), 5)`). Not the
    arguments of other calls: `len(items)` passes on no coroutine `items` holds."""
    stack = [value]
    while stack:
        current = stack.pop()
        yield current
        kind = type(current)
        if kind is ast.List or kind is ast.Tuple or kind is ast.Set:
            stack.extend(current.elts)  # type: ignore[attr-defined]
        elif kind is ast.Dict:
            stack.extend(current.values)  # type: ignore[attr-defined]
        elif kind is ast.ListComp or kind is ast.GeneratorExp or kind is ast.SetComp or kind is ast.DictComp:
            stack.append(current.value if kind is ast.DictComp else current.elt)  # type: ignore[attr-defined]
            stack.extend(g.iter for g in current.generators)  # type: ignore[attr-defined]
        elif kind is ast.IfExp:
            stack.extend((current.body, current.orelse))  # type: ignore[attr-defined]
        elif kind is ast.BoolOp:
            stack.extend(current.values)  # type: ignore[attr-defined]
        elif kind is ast.Starred or kind is ast.Await or kind is ast.NamedExpr or kind is ast.Subscript:
            stack.append(current.value)  # type: ignore[attr-defined]
        elif kind is ast.Call:
            if last_name(current.func) in SCHEDULING:  # type: ignore[attr-defined,operator]
                stack.extend([*current.args, *(k.value for k in current.keywords)])  # type: ignore[attr-defined]


def _bound(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if type(n) is ast.Name}

