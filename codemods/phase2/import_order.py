"""What a module-level statement needs defined above it when the module is imported.

A statement runs at import: the names it reads then (a value's expression, a
`def`'s decorators, defaults and annotations, a class body) must be bound by an
earlier top-level statement, and so must every global read by a module function it
calls then (`async_engine = make_async_engine()` runs `make_async_engine`'s body).
The async stack codemod places its statements below all of that; the self-check
finds any statement of a rewritten module that names something only defined
further down. Read on `ast`; a name nothing binds at the top level (a builtin, a
star import, a `global` set by a function) is not judged.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef
# What a comprehension binds stays in it.
_Comprehension = ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp


@dataclass(frozen=True, slots=True)
class Need:
    """`name`, read when the statement runs: directly, or in the body of `through` (a module
    function the statement calls, itself maybe called through others)."""

    name: str
    through: tuple[str, ...] = ()


def bindings(body: Sequence[ast.stmt]) -> dict[str, int]:
    """Each name the module binds at the top level: the index of its first binding statement
    (a binding inside a top-level `if`/`try`/`with`/`for` counts there)."""
    found: dict[str, int] = {}
    for index, statement in enumerate(body):
        for name in _bound(statement):
            found.setdefault(name, index)
    return found


def needs(statement: ast.stmt, body: Sequence[ast.stmt], postponed: bool | None = None) -> list[Need]:
    """The names `statement` reads at import, directly or through the module functions it calls
    then (transitively), each once, in order of discovery. `body` is the module's top level;
    `postponed`: annotations are not evaluated (`from __future__ import annotations`)."""
    if postponed is None:
        postponed = future_annotations(body)
    functions = {
        s.name: s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    found: dict[str, Need] = {}
    read, called = _import_time(statement, postponed)
    for name in read:
        found.setdefault(name, Need(name))
    queue: list[tuple[str, tuple[str, ...]]] = [(name, (name,)) for name in called if name in functions]
    seen: set[str] = set()
    while queue:
        name, path = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        inner_read, inner_called = _body_reads(functions[name])
        for inner in inner_read:
            found.setdefault(inner, Need(inner, path))
        queue += [(callee, (*path, callee)) for callee in inner_called if callee in functions]
    return list(found.values())


def late(body: Sequence[ast.stmt], indexes: Iterable[int] | None = None) -> list[tuple[int, Need, int]]:
    """(statement index, need, index of its first binding) for each statement (of `indexes`, or
    all) that needs a name the module binds only further down."""
    bound = bindings(body)
    postponed = future_annotations(body)
    found = []
    for index in range(len(body)) if indexes is None else indexes:
        for need in needs(body[index], body, postponed):
            where = bound.get(need.name)
            if where is not None and where > index:
                found.append((index, need, where))
    return found


def future_annotations(body: Sequence[ast.stmt]) -> bool:
    return any(
        isinstance(s, ast.ImportFrom) and s.module == "__future__" and any(a.name == "annotations" for a in s.names)
        for s in body
    )


def _bound(statement: ast.stmt) -> list[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [
            alias.asname or alias.name.split(".")[0] for alias in statement.names if alias.name != "*"
        ]
    names: list[str] = []
    for node in _walk_outside_scopes(statement, _Comprehension):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        elif node is not statement and isinstance(node, ast.stmt):
            names.extend(_bound(node) if isinstance(node, (_Definition, ast.Import, ast.ImportFrom)) else [])
    return names


_Definition = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _walk_outside_scopes(node: ast.AST, also: type | types.UnionType = _Scope) -> Iterable[ast.AST]:
    """`ast.walk`, not entering a nested function, lambda or class (their own scope), nor `also`."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is not node and isinstance(current, (_Scope, also)):
            continue
        stack.extend(ast.iter_child_nodes(current))


def _import_time(statement: ast.stmt, postponed: bool) -> tuple[list[str], list[str]]:
    """Names `statement` reads when it runs at the top level, and the bare names it calls."""
    read: list[str] = []
    called: list[str] = []

    def expression(node: ast.AST | None) -> None:
        if node is None:
            return
        for inner in _walk_outside_scopes(node):
            if isinstance(inner, ast.Lambda):
                expression(inner.args)  # its defaults run now, its body later
            elif isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load):
                read.append(inner.id)
            elif isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name):
                called.append(inner.func.id)

    def run(node: ast.stmt) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                expression(decorator)
                if isinstance(decorator, ast.Name):  # `@cached` calls it on the function
                    called.append(decorator.id)
            arguments = node.args
            for default in (*arguments.defaults, *arguments.kw_defaults):
                expression(default)
            if not postponed:
                for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                 arguments.vararg, arguments.kwarg):
                    if argument is not None:
                        expression(argument.annotation)
                expression(node.returns)
            return
        if isinstance(node, ast.ClassDef):
            for part in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
                expression(part)
            for inner in node.body:  # a class body runs at once
                run(inner)
            return
        if isinstance(node, ast.AnnAssign) and postponed:
            expression(node.value)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                run(child)
            else:
                expression(child)

    run(statement)
    return read, called


def _body_reads(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[str], list[str]]:
    """The globals a function's body reads when it is called (names it does not bind itself),
    and the bare names it calls. Nested functions and lambdas are left out: they run later,
    if at all."""
    arguments = function.args
    local = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
    local |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    declared_global: set[str] = set()
    nodes = [node for statement in function.body for node in _walk_outside_scopes(statement)]
    for node in nodes:
        if isinstance(node, ast.Global):
            declared_global.update(node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            local.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            local.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, _Definition):
            local.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            local.add(node.name)
    local -= declared_global
    read: list[str] = []
    called: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
            read.append(node.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in local:
            called.append(node.func.id)
    return read, called
