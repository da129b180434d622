"""Tables filled by a registering decorator, read on `ast`.

`def handles(kind): def register(fn): HANDLERS[kind] = fn; return fn; return register`, the
method form storing into `self._handlers[kind]` (or `cls.registry[kind]`), and the list-valued
`REGISTRY.setdefault(kind, []).append(fn)` / `REGISTRY[kind].append(fn)`: a function that stores
its first parameter (the function it decorates) in a table and hands that same function back.
Such a table holds exactly the functions so decorated when nothing else writes it, hands it on,
or uses the decorator otherwise (`handles(X)(f)`, `h = handles`). Two facts per module:
the registration stores (`facts.Module.registering_stores`), and every name used in a way this
reading does not understand (`facts.Module.loose_names`): the project index joins them
(`Containers.registered_table`); a table or decorator named there is not read whole.
Names are compared by their last part, across the project: a use of another object of the same
name only keeps a table unread, never reads one that is not whole.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from async_migrate.codemods.astcollect.dispatch import MUTATORS
from async_migrate.codemods.astcollect.syntax import field_children, own_nodes

# What reads a table without changing it or handing it on.
_VIEWS = frozenset({"get", "values", "items", "keys"})
# What puts the decorated function in a (list- or set-valued) table.
_ADDS = frozenset({"append", "add"})
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Methods that change a table in place (what `dispatch.MUTATORS` adds, and what takes out).
_CHANGES = MUTATORS | {"pop", "popitem", "clear", "remove", "discard", "__delitem__"}
# The nodes whose parent `_read` looks up (a use, the subscripts and attributes around it).
_PARENTED = frozenset({ast.Name, ast.Attribute, ast.Subscript, ast.Constant})
# Nodes whose one field holding code is `value` (None for a bare `return`).
_VALUED = frozenset({ast.keyword, ast.Expr, ast.Return, ast.Await, ast.Starred})


def _empty(node: ast.expr | None) -> bool:
    """`{}`, `[]`, `set()`, `dict()`, `defaultdict(list)`: a table bound holding nothing."""
    if node is None:
        return True
    if type(node) in (ast.Dict, ast.List, ast.Set, ast.Tuple):
        return not getattr(node, "keys", None) and not getattr(node, "elts", None)
    if type(node) is ast.Call and not node.keywords:
        name = node.func.id if type(node.func) is ast.Name else node.func.attr if type(node.func) is ast.Attribute else ""
        if name in ("dict", "list", "set", "OrderedDict") and not node.args:
            return True
        if name == "defaultdict" and len(node.args) == 1 and type(node.args[0]) is ast.Name \
                and node.args[0].id in ("list", "set"):
            return True
    return False


def _hands_back(function: ast.FunctionDef | ast.AsyncFunctionDef, own: list[ast.stmt]) -> str | None:
    """The first parameter of a function whose every `return` hands it back (at least one);
    `own`: the function's `_own_statements`."""
    params = [*function.args.posonlyargs, *function.args.args]
    if not params:
        return None
    first = params[0].arg
    returns = [n for n in own if type(n) is ast.Return]
    if returns and all(type(r.value) is ast.Name and r.value.id == first for r in returns):
        return first
    return None


# Statement type -> those of its fields that hold statements, `except` clauses or cases.
_BLOCKS: dict[type, tuple[str, ...]] = {}


def _own_statements(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    """The statements of a function's body at any depth, the definitions nested in it included
    but not their own statements."""
    found: list[ast.stmt] = []
    pending: list[ast.stmt] = list(function.body)
    while pending:
        statement = pending.pop()
        found.append(statement)
        if isinstance(statement, (*_FUNCTIONS, ast.ClassDef)):
            continue
        kind = type(statement)
        fields = _BLOCKS.get(kind)
        if fields is None:
            fields = _BLOCKS[kind] = tuple(
                name for name in ("body", "orelse", "finalbody", "handlers", "cases") if name in kind._fields
            )
        for field in fields:  # none for a simple statement: most of them
            inner = getattr(statement, field, None)
            if field == "handlers" or field == "cases":
                for clause in inner or ():
                    pending.extend(clause.body)
            elif type(inner) is list:
                pending.extend(s for s in inner if isinstance(s, ast.stmt))
    return found


def _table(node: ast.expr) -> ast.expr | None:
    """The table a store goes into: `T` of `T[k]`, `T.setdefault(k, [])`, or `T` itself."""
    if type(node) is ast.Subscript and type(node.ctx) is ast.Load:
        return node.value if type(node.value) in (ast.Name, ast.Attribute) else None
    if type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr == "setdefault" \
            and len(node.args) == 2 and not node.keywords and _empty(node.args[1]):
        return node.func.value if type(node.func.value) in (ast.Name, ast.Attribute) else None
    return node if type(node) in (ast.Name, ast.Attribute) else None


def _store(node: ast.AST, param: str) -> ast.expr | None:
    """The table a statement stores `param` in: `T[k] = fn`, `T[k].append(fn)`, `T.append(fn)`,
    `T.setdefault(k, []).append(fn)`."""
    if type(node) is ast.Assign and len(node.targets) == 1 and type(node.value) is ast.Name \
            and node.value.id == param:
        target = node.targets[0]
        if type(target) is ast.Subscript and type(target.value) in (ast.Name, ast.Attribute):
            return target.value
        return None
    if type(node) is ast.Expr and type(node.value) is ast.Call:
        call = node.value
        if type(call.func) is ast.Attribute and call.func.attr in _ADDS and not call.keywords \
                and len(call.args) == 1 and type(call.args[0]) is ast.Name and call.args[0].id == param:
            return _table(call.func.value)
    return None


def _key(table: ast.expr, resolve: Callable[[str, frozenset[str]], str | None], local: frozenset[str]) -> str | None:
    """`.attr` for the instance's or class's table (`self._handlers`, `cls.registry`), the
    resolved reference of a module-level one (`shop.bus.HANDLERS`); None for any other."""
    if type(table) is ast.Attribute and type(table.value) is ast.Name and table.value.id in ("self", "cls"):
        return "." + table.attr
    if type(table) is ast.Name and table.id not in local:
        return resolve(table.id, local)
    return None


class _Reader:
    """The registrations of one module, and the ids of the name nodes whose use they explain. A
    class, not a recursive closure: a closure calling itself is a reference cycle, which would keep
    `resolve` (the collector, and through it the module's whole tree) alive in the workers, which
    run without the cycle collector."""

    def __init__(self, resolve: Callable[[str, frozenset[str]], str | None]) -> None:
        self.resolve = resolve
        self.registrations: list[tuple[str, str, int]] = []
        self.understood: set[int] = set()  # ids of the name nodes whose use is understood
        self.loose: set[str] = set()

    def visit(self, body: list[ast.stmt], prefix: str, enclosing: frozenset[str]) -> None:
        for statement in body:
            if isinstance(statement, _FUNCTIONS):
                qualname = prefix + statement.name
                # This reading runs on every function of every module: its statements first, and
                # every node only where it hands its first parameter back or nests a definition.
                statements = _own_statements(statement)
                param = _hands_back(statement, statements)
                nests = any(isinstance(n, (*_FUNCTIONS, ast.ClassDef)) for n in statements)
                own = own_nodes(statement.body) if param is not None or nests else []
                local = enclosing | {a.arg for a in ast.walk(statement.args) if type(a) is ast.arg} | {
                    n.id for n in own if type(n) is ast.Name and type(n.ctx) is ast.Store
                } if own else enclosing
                if param is not None:
                    for node in own:
                        table = _store(node, param)
                        key = _key(table, self.resolve, local) if table is not None else None
                        if key is None or table is None:
                            continue
                        self.registrations.append((key, qualname, getattr(node, "lineno", statement.lineno)))
                        self.understood.add(id(table))
                        if type(node) is ast.Expr and type(node.value) is ast.Call:
                            receiver = node.value.func.value  # type: ignore[attr-defined]
                            self.understood.add(id(receiver))
                            if type(receiver) is ast.Call:
                                self.understood.add(id(receiver.func))
                        self.understood.add(id(node.value))
                if "<locals>" not in prefix:
                    # `@handles(X)`, `@bus.handles(X)`, `@register` on a function the index holds;
                    # one nested in a function body may not be (`Project.functions`): not read
                    self.understood.update(id(d.func if type(d) is ast.Call else d) for d in statement.decorator_list)
                direct = [n for n in own if isinstance(n, (*_FUNCTIONS, ast.ClassDef))]
                for inner in direct:
                    self.visit([inner], f"{qualname}.<locals>.", local)
                for node in own if direct else ():
                    # `return register` in the factory that defines it
                    if type(node) is ast.Return and type(node.value) is ast.Name and any(
                        isinstance(s, _FUNCTIONS) and s.name == node.value.id for s in direct
                    ):
                        self.understood.add(id(node.value))
            elif isinstance(statement, ast.ClassDef):
                self.visit(statement.body, f"{prefix}{statement.name}.", enclosing)
                for decorator in statement.decorator_list:
                    # a registered class is built when called: not read here
                    self.loose.update(_names(decorator))
            else:
                for field in ("body", "orelse", "finalbody"):
                    inner_body = getattr(statement, field, None)
                    if isinstance(inner_body, list):
                        self.visit([s for s in inner_body if isinstance(s, ast.stmt)], prefix, enclosing)
                for handler in getattr(statement, "handlers", ()):
                    self.visit(handler.body, prefix, enclosing)
                for case in getattr(statement, "cases", ()):
                    self.visit(case.body, prefix, enclosing)


def read(tree: ast.Module, resolve: Callable[[str, frozenset[str]], str | None]) -> tuple[list[tuple[str, str, int]], list[str]]:
    """(registrations: (table key, qualname of the registering function, line), loose names)."""
    reader = _Reader(resolve)
    reader.visit(tree.body, "", frozenset())
    registrations, understood, loose = reader.registrations, reader.understood, reader.loose
    # One walk, outermost first: a node's parent (and theirs, which `_read` climbs) is known by
    # then. It runs on every node of every module: only the parents `_read` asks for are kept.
    parents: dict[int, ast.AST] = {}
    pending: list[ast.AST] = [tree]
    pop, push = pending.pop, pending.append
    while pending:
        node = pop()
        kind = type(node)
        # `_read` only decides whether a name joins `loose`: one already there is not asked again.
        if kind is ast.Name:
            if node.id not in loose and id(node) not in understood and not _read(node, parents):  # type: ignore[attr-defined,arg-type]
                loose.add(node.id)  # type: ignore[attr-defined]
            continue
        if kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            # `setattr(bus, "_handlers", ...)`, `globals()["HANDLERS"]`: a name spelled as a string
            if type(value) is str and value.isidentifier() and type(parents.get(id(node))) in (ast.Call, ast.Subscript):
                loose.add(value)
            continue
        if kind is ast.Attribute:
            inner = node.value  # type: ignore[attr-defined]
            if type(inner) in _PARENTED:
                parents[id(inner)] = node
            push(inner)
            if node.attr not in loose and id(node) not in understood and not _read(node, parents):  # type: ignore[attr-defined,arg-type]
                loose.add(node.attr)  # type: ignore[attr-defined]
            continue
        # The commonest nodes with children, without the generic loop below.
        if kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            if type(func) in _PARENTED:
                parents[id(func)] = node
            push(func)
            for item in node.args:  # type: ignore[attr-defined]
                if type(item) in _PARENTED:
                    parents[id(item)] = node
                push(item)
            for item in node.keywords:  # type: ignore[attr-defined]
                push(item)
            continue
        if kind in _VALUED:
            inner = node.value  # type: ignore[attr-defined]
            if inner is not None:
                if type(inner) in _PARENTED:
                    parents[id(inner)] = node
                push(inner)
            continue
        if kind is ast.Import or kind is ast.ImportFrom:
            # `from bus import HANDLERS as H`: a use under another name is not compared
            loose.update(alias.name.rsplit(".", 1)[-1] for alias in node.names if alias.asname)  # type: ignore[attr-defined]
            continue
        for item in field_children(node):
            if type(item) in _PARENTED:
                parents[id(item)] = node
            push(item)
    return registrations, sorted(loose)


def _names(node: ast.AST) -> set[str]:
    return {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node) if isinstance(n, (ast.Name, ast.Attribute))}


def _read(node: ast.Name | ast.Attribute, parents: dict[int, ast.AST]) -> bool:
    """A use that only reads a table (`T[k]`, `T.get(k)`, `T.values()`, a loop over it, `k in T`,
    `len(T)`), binds it empty (`T = {}`, `self._handlers = {}`), or reads an attribute of the name
    (`bus.handles`: the attribute is judged for itself)."""
    parent = parents.get(id(node))
    if type(node.ctx) is ast.Store:
        if type(parent) is ast.Assign and len(parent.targets) == 1:
            return _empty(parent.value)
        if type(parent) is ast.AnnAssign:
            return _empty(parent.value)
        return False
    if type(node.ctx) is not ast.Load:
        return False
    if type(parent) is ast.Subscript and parent.value is node:
        # `T[k]`, `T[k][j]` read: not `T[k] = v`, `del T[k]`, `T[k].append(v)`
        outer: ast.Subscript = parent
        above = parents.get(id(outer))
        while isinstance(above, ast.Subscript) and above.value is outer:
            outer, above = above, parents.get(id(above))
        return type(outer.ctx) is ast.Load and not (isinstance(above, ast.Attribute) and above.attr in _CHANGES)
    if type(parent) is ast.Attribute and parent.value is node:
        if parent.attr in _VIEWS:
            grand = parents.get(id(parent))
            return type(grand) is ast.Call and grand.func is parent
        # an attribute read on it (`bus.handles`, `self._handlers`: judged for itself), not a
        # method that changes it in place (`T.update(...)`, `self._handlers.setdefault(...)`)
        return parent.attr not in _CHANGES
    if type(parent) in (ast.For, ast.AsyncFor, ast.comprehension) and parent.iter is node:  # type: ignore[union-attr]
        return True
    if type(parent) is ast.Compare and node in parent.comparators and all(type(op) in (ast.In, ast.NotIn) for op in parent.ops):
        return True
    if type(parent) is ast.Call and type(parent.func) is ast.Name and parent.func.id == "len" and parent.args == [node]:
        return True
    return False
