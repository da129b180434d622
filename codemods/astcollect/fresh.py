"""Reads on an object a function has just constructed and not yet handed to anything.

`order = Order(customer=...)` then `order.lines.append(line)`: a new object is transient,
it belongs to no Session, so reading one of its relationships never loads (SQLAlchemy 2.0:
nothing cascades it into a Session through a backref either). It stays so until the
function hands the object over: to `session.add(order)`, to any call, a container, a
`return`, a method of its own (`order.save(session)`) or a nested function. After that the
Session may flush it, and a read of an attribute never touched before can load.

`fresh_reads` gives the `name.attr` reads (line, name, attr) of one function body that run
before any such hand-over, in execution order: a hand-over at an earlier line, or anywhere
in a loop that encloses the read but not the construction (a later iteration reads after
it), counts as before. The name must be bound exactly once, by `name = Callee(...)`; which
callee constructs a mapped class is for the caller to decide (`facts.Function.holds`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from async_migrate.codemods.astcollect.syntax import field_children

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass(slots=True)
class _Name:
    # (where, enclosing loops): where is the node, or -1 for "before everything"
    bindings: list[tuple[ast.AST | int, tuple[int, ...]]] = field(default_factory=list)
    constructed: bool = False
    escapes: list[tuple[ast.AST | int, tuple[int, ...]]] = field(default_factory=list)
    reads: list[tuple[ast.AST, str, tuple[int, ...]]] = field(default_factory=list)


def fresh_reads(
    body: list[ast.stmt], line_of: Callable[[ast.AST], int], candidates: AbstractSet[str]
) -> list[tuple[int, str, str]]:
    """`candidates`: the names some `name = Callee(...)` of the body (outside nested scopes)
    binds; only those can be built here, and the walk records nothing about other names."""
    if not candidates:
        return []
    names: dict[str, _Name] = {}
    _Walk(names, candidates).statements(body, ())
    found = []
    for name, seen in names.items():
        if len(seen.bindings) != 1 or not seen.constructed:
            continue
        where, bound_loops = seen.bindings[0]
        bound = where if isinstance(where, int) else line_of(where)
        # Lines are worked out here, for the few names built in the function, not for every use.
        escapes = [(at if isinstance(at, int) else line_of(at), loops) for at, loops in seen.escapes]
        for read, attribute, loops in seen.reads:
            line = line_of(read)
            if line <= bound:
                continue
            before = any(
                at <= line or any(loop in loops and loop not in bound_loops for loop in escape_loops)
                for at, escape_loops in escapes
            )
            if not before:
                found.append((line, name, attribute))
    return sorted(found)


class _Walk:
    def __init__(self, names: dict[str, _Name], candidates: AbstractSet[str]) -> None:
        self.names = names
        self.candidates = candidates

    def _name(self, name: str) -> _Name:
        return self.names.setdefault(name, _Name())

    def statements(self, body: list[ast.stmt], loops: tuple[int, ...]) -> None:
        for statement in body:
            self.node(statement, loops)

    def node(self, node: ast.AST, loops: tuple[int, ...], nested: bool = False) -> None:
        candidates = self.candidates
        kind = type(node)
        # The commonest nodes first, by their exact type (the parser makes no subclasses).
        if kind is ast.Name:
            if node.id in candidates:  # type: ignore[attr-defined]
                seen = self._name(node.id)  # type: ignore[attr-defined]
                if type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                    seen.escapes.append((node, loops))
                else:  # any other binding (a loop target, `with ... as`, `del`): not judged
                    seen.bindings.append((node, loops))
            return
        if kind is ast.Constant:
            return  # holds no code
        if kind is ast.Attribute and type(node.value) is ast.Name:  # type: ignore[attr-defined]
            if node.value.id in candidates:  # type: ignore[attr-defined]
                self._name(node.value.id).reads.append((node, node.attr, loops))  # type: ignore[attr-defined]
            return
        if kind in _SCOPE_TYPES and not nested:
            # A nested scope may run at any time: every name it uses is handed over already.
            for inner in ast.walk(node):
                if type(inner) is ast.Name and inner.id in candidates:
                    self._name(inner.id).escapes.append((-1, ()))
            return
        if kind in _LOOP_TYPES:
            loops = (*loops, id(node))
        if kind is ast.Assign and len(node.targets) == 1 and type(node.targets[0]) is ast.Name:  # type: ignore[attr-defined]
            if node.targets[0].id in candidates:  # type: ignore[attr-defined]
                seen = self._name(node.targets[0].id)  # type: ignore[attr-defined]
                seen.bindings.append((node, loops))
                seen.constructed = type(node.value) is ast.Call  # type: ignore[attr-defined]
            self.node(node.value, loops)  # type: ignore[attr-defined]
            return
        if kind is ast.Call and type(node.func) is ast.Attribute and type(node.func.value) is ast.Name:  # type: ignore[attr-defined]
            # `order.save(session)`: the object's own code runs with it, as `self`.
            if node.func.value.id in candidates:  # type: ignore[attr-defined]
                self._name(node.func.value.id).escapes.append((node, loops))  # type: ignore[attr-defined]
            for child in (*node.args, *node.keywords):  # type: ignore[attr-defined]
                self.node(child, loops)
            return
        if kind is ast.Global or kind is ast.Nonlocal:
            for name in node.names:  # type: ignore[attr-defined]
                if name in candidates:
                    self._name(name).bindings.append((-1, ()))
            return
        if kind is ast.Import or kind is ast.ImportFrom:
            for alias in node.names:  # type: ignore[attr-defined]
                name = (alias.asname or alias.name).split(".")[0]
                if name in candidates:
                    self._name(name).bindings.append((-1, ()))
            return
        # without the contexts and operators: nothing above reads them
        for child in field_children(node):
            self.node(child, loops)


_SCOPE_TYPES = frozenset(_SCOPES)
_LOOP_TYPES = frozenset(_LOOPS)
