"""Check-then-act on state a name or attribute path spells: a read of it (`key in SEEN`,
`SEEN.get(k)`, `SEEN[k]`, `len(SEEN)`, `if SEEN:`, `n = COUNTER` when the body rebinds
`COUNTER`) and an in-place change of it (`SEEN.add(k)`, `SEEN[k] = v`, `del SEEN[k]`,
`SEEN.pop(k)`, `COUNTER = n + 1` under `global`, `registry.count = n`) in one function's own
body (outside nested scopes).

Read apart from whether the state is shared (`codemods.phase1.shared_updates` decides that):
the facts only say which path is read where and changed where, so that a check and the act it
guards can be paired across statements, which a read-modify-write in one statement
(`Function.free_updates`) does not need.
"""

from __future__ import annotations

import ast

from async_migrate.codemods.astcollect.syntax import clipped, dotted, field_children

# Methods of a builtin container (or a deque, a Counter) changing it in place.
MUTATORS = frozenset({
    "add", "append", "appendleft", "extend", "extendleft", "insert", "remove", "discard", "update", "pop",
    "popitem", "popleft", "setdefault", "clear", "sort", "reverse", "difference_update", "intersection_update",
    "symmetric_difference_update", "__setitem__", "__delitem__",
})
# Methods reading a container without changing it.
READERS = frozenset({
    "get", "count", "index", "keys", "values", "items", "copy", "__contains__", "__getitem__", "__len__",
    "issubset", "issuperset", "isdisjoint", "most_common",
})
# Builtins reading what they are given.
_READING_CALLS = frozenset({"len", "bool", "any", "all", "sorted", "min", "max", "sum", "list", "set", "tuple"})
# The "method" of a read testing whether a value is set (`X is None`, `not X`), and of a rebinding
# to a value not read from it (`X = build()`): together, a lazy initialisation (`_client`), which
# concurrent requests may run twice, building two equal objects, and is left out (AM140's doc).
UNSET_TEST = "?"
FRESH = "="
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_SCOPE_KINDS = frozenset(_SCOPES)
_COMPREHENSIONS = frozenset({ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp})


def _path(node: ast.expr) -> str | None:
    if type(node) not in (ast.Name, ast.Attribute):
        return None
    return dotted(node)


def _none_test(node: ast.Compare) -> bool:
    return len(node.ops) == 1 and type(node.ops[0]) in (ast.Is, ast.IsNot) and (
        type(node.comparators[0]) is ast.Constant and node.comparators[0].value is None
    )


def _fresh(statement: ast.stmt, path: str) -> str:
    """FRESH for `X = build()` (an assignment whose value does not read `path`), else ""."""
    value = getattr(statement, "value", None)
    if type(statement) not in (ast.Assign, ast.AnnAssign) or value is None:
        return ""
    return "" if any(isinstance(n, (ast.Name, ast.Attribute)) and dotted(n) == path for n in ast.walk(value)) else FRESH


class _Walk:
    def __init__(self, declared: frozenset[str]) -> None:
        self.declared = declared
        # (path, line, statement ordinal, role, the node shown, the method called on it or "");
        # role: "read", "load", "mutate", "rebind"
        self.found: list[tuple[str, int, int, str, ast.AST, str]] = []
        self.order = 0
        self.bound_inside: set[str] = set()  # comprehension targets: not the names they spell outside

    def statements(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, _SCOPES):
            return
        self.order += 1
        order = self.order
        kind = type(node)
        if kind in (ast.If, ast.While) or kind is ast.Assert:
            self._truth(node.test, order)  # type: ignore[attr-defined]
        targets: list[ast.expr] = []
        if kind is ast.Assign:
            targets = list(node.targets)  # type: ignore[attr-defined]
        elif kind is ast.AnnAssign and node.value is not None:  # type: ignore[attr-defined]
            targets = [node.target]  # type: ignore[attr-defined]
        elif kind is ast.AugAssign:
            targets = [node.target]  # type: ignore[attr-defined]
            target = node.target  # type: ignore[attr-defined]
            path = _path(target.value if type(target) is ast.Subscript else target)
            if path is not None:
                self._add(path, node, order, "read", node)
        elif kind is ast.Delete:
            targets = list(node.targets)  # type: ignore[attr-defined]
        consumed: set[int] = set()
        for target in targets:
            self._target(target, node, order, consumed)
        for child in field_children(node):
            if isinstance(child, ast.stmt) or isinstance(child, (ast.excepthandler, ast.match_case)):
                continue
            self._expression(child, order, consumed)
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(node, field, ()) or ():
                if isinstance(child, ast.stmt):
                    self.statement(child)
                else:  # an `except` clause, a `match` case
                    self.statements(child.body)

    def _add(self, path: str, node: ast.AST, order: int, role: str, shown: ast.AST, method: str = "") -> None:
        if path.partition(".")[0] in self.bound_inside:
            return
        self.found.append((path, getattr(node, "lineno", 0), order, role, shown, method))

    def _target(self, target: ast.expr, statement: ast.stmt, order: int, consumed: set[int]) -> None:
        kind = type(target)
        if kind in (ast.Tuple, ast.List):
            for element in target.elts:  # type: ignore[attr-defined]
                self._target(element, statement, order, consumed)
        elif kind is ast.Starred:
            self._target(target.value, statement, order, consumed)  # type: ignore[attr-defined]
        elif kind is ast.Subscript:
            path = _path(target.value)  # type: ignore[attr-defined]
            if path is not None:
                consumed.add(id(target.value))  # type: ignore[attr-defined]
                self._add(path, target, order, "mutate", statement)
        elif kind is ast.Attribute or (kind is ast.Name and target.id in self.declared):  # type: ignore[attr-defined]
            path = _path(target)
            if path is not None:
                consumed.add(id(target))
                self._add(path, target, order, "rebind", statement, _fresh(statement, path))

    def _truth(self, test: ast.expr, order: int) -> None:
        """A path tested for truth, alone or under `not`, `and`, `or`."""
        if type(test) is ast.UnaryOp and type(test.op) is ast.Not:
            self._truth(test.operand, order)
        elif type(test) is ast.BoolOp:
            for value in test.values:
                self._truth(value, order)
        else:
            path = _path(test)
            if path is not None:
                self._add(path, test, order, "read", test, UNSET_TEST)

    def _expression(self, root: ast.AST, order: int, consumed: set[int]) -> None:
        pending: list[ast.AST] = [root]
        while pending:
            node = pending.pop()
            kind = type(node)
            if kind in _SCOPE_KINDS:
                continue
            if kind in _COMPREHENSIONS:
                for generator in node.generators:  # type: ignore[attr-defined]
                    self.bound_inside.update(n.id for n in ast.walk(generator.target) if type(n) is ast.Name)
            if kind is ast.Compare:
                unset = _none_test(node)  # type: ignore[arg-type]
                for operand in (node.left, *node.comparators):  # type: ignore[attr-defined]
                    path = _path(operand)
                    if path is not None:
                        consumed.add(id(operand))
                        self._add(path, node, order, "read", node, UNSET_TEST if unset else "")
            elif kind is ast.Call:
                func = node.func  # type: ignore[attr-defined]
                if type(func) is ast.Attribute and (path := _path(func.value)) is not None:
                    if func.attr in MUTATORS:
                        consumed.add(id(func.value))
                        self._add(path, node, order, "mutate", node, func.attr)
                    elif func.attr in READERS:
                        consumed.add(id(func.value))
                        self._add(path, node, order, "read", node, func.attr)
                    consumed.add(id(func))
                elif type(func) is ast.Name and func.id in _READING_CALLS:
                    for arg in node.args:  # type: ignore[attr-defined]
                        path = _path(arg)
                        if path is not None:
                            consumed.add(id(arg))
                            self._add(path, node, order, "read", node)
            elif kind is ast.Subscript and type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                path = _path(node.value)  # type: ignore[attr-defined]
                if path is not None:
                    consumed.add(id(node.value))  # type: ignore[attr-defined]
                    self._add(path, node, order, "read", node)
            elif kind is ast.IfExp:
                self._truth(node.test, order)  # type: ignore[attr-defined]
            elif kind is ast.BoolOp or (kind is ast.UnaryOp and type(node.op) is ast.Not):  # type: ignore[attr-defined]
                self._truth(node, order)  # type: ignore[arg-type]
            if kind in (ast.Name, ast.Attribute) and id(node) not in consumed and type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                path = _path(node)  # type: ignore[arg-type]
                if path is not None:
                    self._add(path, node, order, "load", node)
                    continue  # its parts are the same value, not reads of their own
            if kind is ast.Attribute:
                consumed.add(id(node.value))  # type: ignore[attr-defined]
            pending.extend(field_children(node))


def accesses(
    body: list[ast.stmt], declared: frozenset[str], local: frozenset[str], first: str | None
) -> list[tuple[str, str, int, int, bool, str, str]]:
    """The reads and changes of each path the body both reads and changes: (path, line, statement
    ordinal, whether it changes it, the code as written, the method called on it or ""), in walk
    order. A plain load of the value
    (`n = COUNTER`) is a read only of a path the body rebinds (`COUNTER = n + 1`, `obj.count = n`):
    of a container changed in place it is the container, not what it holds. Each with where its
    name comes from: "self" (`first`, the first positional parameter), "bound" (a parameter or
    local in `local`), "free" (a module-level or closure name, or one declared `global`)."""
    walk = _Walk(declared)
    walk.statements(body)
    rebound = {path for path, _, _, role, _, _ in walk.found if role == "rebind"}
    changed = {path for path, _, _, role, _, _ in walk.found if role in ("mutate", "rebind")}
    read = {
        path for path, _, _, role, _, _ in walk.found if role == "read" or (role == "load" and path in rebound)
    }
    both = changed & read
    if not both:
        return []
    found = []
    seen = set()
    for path, line, order, role, shown, method in walk.found:
        if path not in both or (role == "load" and path not in rebound) or (path, line, order, role) in seen:
            continue
        seen.add((path, line, order, role))
        head = path.partition(".")[0]
        kind = "self" if head == first and head in local else "bound" if head in local else "free"
        found.append((kind, path, line, order, role in ("mutate", "rebind"), clipped(ast.unparse(shown)), method))
    return found
