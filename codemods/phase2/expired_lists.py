"""Objects a commit expires, read afterwards through other names: lists and their elements.

`expired_reads` finds the reads of a name after a commit point from the facts (`name.attr`, the
name passed or returned). A list the function loaded (`items = db.scalars(select(Item)).all()`)
is read through other names as well: `for item in items`, a comprehension, `items[0]`, or
`first = items[0]` bound before the commit. The facts record those names' data flow
(`Function.holds`); this module follows it, and reads the function's source for where the
names are used after the commit.

A list is refreshed element by element right after the commit point,

    for item in items:
        if item in db:  # deleted or expunged meanwhile: detached by the commit, not expired
            await db.refresh(item)

only when it certainly holds instances of one mapped class loaded by that Session (one entity:
`select(Model)` through `scalars(...).all()`, `query(Model)...all()`, `list(db.scalars(...))`),
is bound once, and is never changed (no method call on it, no item assigned, no `+=`): an
object put in by the function may be one the Session does not hold. Anything else is blocked,
naming the list and the line of the read.

A list handed to `session.add_all(...)` adds each object it holds: `listed` says whether it
certainly holds the object a name holds (a display naming it, or a local bound once to one and
not changed before the call), as `expired_reads.added_before` asks for `add_all([obj])`.
"""

from __future__ import annotations

import ast
import re
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.syntax import name_chain
from async_migrate.codemods.vocabulary.sqlalchemy import TABLE_TYPES

if TYPE_CHECKING:
    from async_migrate.codemods.phase2.expired_reads import Models

# Builtins whose result holds the elements of their argument (a list for `list`/`sorted`).
_LISTS = frozenset({"list", "sorted", "tuple"})
# Session methods whose argument is no read of the object's attributes.
_NOT_READS = frozenset({"refresh", "delete", "add", "add_all", "expunge"})
# Uses of a list that read no element: its length, whether it is empty, its identity.
_SAFE_CALLS = frozenset({"len", "bool", "id", "isinstance"})


def derived(function: facts.Function, name: str) -> set[str]:
    """`name` and the names holding it or its elements, transitively: `alias = items`,
    `for item in items`, `[i for i in items]`, `first = items[0]`, `a, b = items`."""
    found = {name}
    changed = True
    while changed:
        changed = False
        for other, terms in function.holds.items():
            if other not in found and any(_element_of(term, found) for term in terms):
                found.add(other)
                changed = True
    return found


def aliases(function: facts.Function, name: str) -> set[str]:
    """`name` and the names bound to it as it is (`alias = items`), transitively."""
    found = {name}
    changed = True
    while changed:
        changed = False
        for other, terms in function.holds.items():
            if other not in found and any(t[:1] == ("name",) and t[1] in found for t in terms):
                found.add(other)
                changed = True
    return found


def _element_of(term: tuple, names: set[str]) -> bool:
    kind = term[0] if term else ""
    if kind == "name":
        return term[1] in names  # `alias = items`: the same list
    if kind in ("iter", "item"):
        inner = term[1]
        return inner[:1] == ("name",) and inner[1] in names or _element_of(inner, names)
    return False


def listed(
    function: facts.Function,
    node: ast.FunctionDef | ast.AsyncFunctionDef | None,
    call: facts.Call,
    arg: facts.Arg,
    name: str,
    start: int,
) -> str:
    """Whether the list `arg` handed to `call` (`session.add_all(...)`) holds the object `name`
    holds since `start` (the line binding it, 0 for a parameter): "every" for a display naming it
    (`add_all([obj])`), or a local bound once to one (`objs = [obj, log]`) after `start`, and
    neither it changed nor `name` bound again before the call; "some" for one that may hold it
    otherwise (`objs.remove(obj)` on the way, `add_all([obj] + logs)`); "" for one that never does."""
    if f"${name}" in arg.displayed:
        return "every"
    if arg.name is None:
        given = _given(node, call.line, "add_all")
        mentioned = given is not None and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(given))
        return "some" if mentioned or given is None and name in call.contained else ""
    terms = function.holds.get(arg.name, ())
    if not any(t == ("name", name) for held in terms for t in _containers(held)):
        return ""
    return "every" if node is not None and _holds_still(node, arg.name, name, start, call.line) else "some"


def _given(node: ast.AST | None, line: int, method: str) -> ast.expr | None:
    """The first argument of the one `x.method(...)` call starting on `line`, or None."""
    calls = [
        n for n in ast.walk(node) if isinstance(n, ast.Call) and n.lineno == line
        and isinstance(n.func, ast.Attribute) and n.func.attr == method and n.args
    ] if node is not None else []
    return calls[0].args[0] if len(calls) == 1 else None


def _holds_still(node: ast.FunctionDef | ast.AsyncFunctionDef, list_name: str, name: str, start: int, line: int) -> bool:
    """`list_name` is bound once, by `list_name = [..., name, ...]` after `start`, and up to `line`
    nothing else uses it (a method call, an item assigned, handed to a call, a nested scope that
    may run meanwhile) nor binds `name` again."""
    built: ast.Assign | None = None
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assign) and any(isinstance(t, ast.Name) and t.id == list_name for t in sub.targets):
            if built is not None or len(sub.targets) != 1:
                return False
            built = sub
    if built is None or not start < built.lineno or not isinstance(built.value, (ast.List, ast.Tuple, ast.Set)):
        return False
    if not any(isinstance(e, ast.Name) and e.id == name for e in built.value.elts):
        return False
    given = _given(node, line, "add_all")
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Name) or sub is given or sub.lineno > line:
            continue
        if sub.id == list_name and sub is not built.targets[0]:
            return False
        if sub.id == name and not isinstance(sub.ctx, ast.Load) and sub.lineno >= built.lineno:
            return False
    return isinstance(given, ast.Name) and given.id == list_name


def entity_list(function: facts.Function, binding: facts.Binding, names: set[str]) -> str | None:
    """The mapped class of a list of instances the Session loaded (`db.scalars(select(M)).all()`,
    `db.query(M)...all()`, `list(db.scalars(select(M)))`), bound by `binding`; else None."""
    terms = function.holds.get(binding.name, ())
    if len(terms) != 1:
        return None
    (term,) = terms
    head = binding.expr.partition("(")[0]
    if term[0] == "load" and binding.expr.startswith("$") and binding.expr.endswith(".all()"):
        index = term[1]
    elif term[0] == "tuple" and head in _LISTS and len(term[1]) == 1 and term[1][0][:1] == ("iter",) and (
        term[1][0][1][:1] == ("load",)
    ):
        index = term[1][0][1][1]
    else:
        return None
    load = function.loads[index]
    if load.form not in ("select", "query") or load.session not in names:
        return None
    return load.model


def session_result(function: facts.Function, name: str, names: set[str]) -> bool:
    """Whether a name holds (elements of) what a Session call returned: `list(db.execute(...))`."""
    calls = {c.index: c for c in function.calls}

    for term in (t for held in function.holds.get(name, ()) for t in _containers(held)):
        if term[0] == "load":
            return True
        if term[0] == "call" and isinstance(term[1], int):
            call = calls.get(term[1])
            if call is not None and call.receiver in names:
                return True
    return False


def _containers(term: tuple) -> Iterator[tuple]:
    """A term and what it holds as elements (not attributes: `[i.name for i in items]` holds
    names, no objects)."""
    yield term
    kind = term[0] if term else ""
    if kind in ("iter", "item"):
        yield from _containers(term[1])
    elif kind in ("tuple", "any"):
        for part in term[1]:
            yield from _containers(part)


def entity(models: Models, function: facts.Function, binding: facts.Binding) -> bool:
    """The name certainly holds one ORM instance (or None): `Model(...)`, `db.get(Model, pk)`,
    or a query of one mapped entity (`db.scalars(select(Model)).first()`)."""
    if not binding.expr.startswith("$"):
        return True  # `Model(...)`: `_instance` checked the class is mapped
    terms = function.holds.get(binding.name, ())
    if len(terms) != 1 or terms[0][0] != "load":
        return False
    load = function.loads[terms[0][1]]
    return load.model is not None and models.mapped(models.resolve(load.model) or load.model)


def mapped_name(models: Models, module: facts.Module, written: str) -> bool:
    """Whether a name as written in a module (`Book`, `models.Book`) is a mapped class."""
    head, _, rest = written.partition(".")
    ref = module.imports.get(head, f"{module.name}.{head}") + (f".{rest}" if rest else "")
    cls = models.resolve(ref)
    return cls is not None and models.mapped(cls)


def table_name(models: Models, module: facts.Module, written: str) -> bool:
    """Whether a name as written in a module (`orders`, `tables.orders`) is a module-level
    `Table(...)`: selecting it, or its columns, returns rows of values, never ORM objects, even
    where a class is mapped to it."""
    head, _, rest = written.partition(".")
    ref = module.imports.get(head, f"{module.name}.{head}") + (f".{rest}" if rest else "")
    target = models.project.resolve(ref)
    value = target.value if target is not None and target.kind == "value" else None
    return value is not None and value.kind == "call" and models.project.canonical(value.ref) in TABLE_TYPES


def _table_column(arg: ast.expr, tables: Callable[[str], bool]) -> bool:
    """`orders.c.id`, `orders.c["id"]`, `orders.columns.id` on a `Table` (`tables`)."""
    owner = arg.value if isinstance(arg, (ast.Attribute, ast.Subscript)) else None
    if not isinstance(owner, ast.Attribute) or owner.attr not in ("c", "columns"):
        return False
    written = name_chain(owner.value)
    return written is not None and tables(written)


class Body:
    """A function's source: where names are used after a line, and whether a list is changed."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef | None, sessions: set[str]) -> None:
        self.node = node
        self.sessions = sessions
        self._parents: dict[int, ast.AST] = {}
        if node is not None:
            for parent in ast.walk(node):
                for child in ast.iter_child_nodes(parent):
                    self._parents[id(child)] = parent

    def read_after(
        self, name: str, names: set[str], line: int, unread_return: bool = False
    ) -> tuple[int, str] | None:
        """The first use after `line` of `name` or a name holding its elements that may read an
        object's attributes: (line, what, as words). `unread_return`: nothing reads what the
        function returns or yields, so handing the object out that way is no read."""
        if self.node is None:
            return None
        found: list[tuple[int, int, str]] = []
        for node in ast.walk(self.node):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
                handed_out = unread_return and isinstance(self._parents.get(id(node)), (ast.Return, ast.Yield))
                if node.lineno > line and not handed_out and not self._harmless(node):
                    found.append((node.lineno, node.col_offset, self._describe(node, name)))
        if not found:
            return None
        at, _, text = min(found)
        return at, text

    def returns_call(self, line: int) -> bool:
        """A `return f(...)` of the function's own body whose call starts at `line`."""
        if self.node is None:
            return False
        for node in ast.walk(self.node):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Call) and node.value.lineno == line:
                return self._own(node)
        return False

    def _own(self, node: ast.AST) -> bool:
        parent = self._parents.get(id(node))
        while parent is not None and parent is not self.node:
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                return False
            parent = self._parents.get(id(parent))
        return True

    def _harmless(self, node: ast.Name) -> bool:
        parent = self._parents.get(id(node))
        if isinstance(parent, ast.Call) and node in parent.args:
            func = parent.func
            if isinstance(func, ast.Name) and func.id in _SAFE_CALLS:
                return True
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and (
                func.value.id in self.sessions and func.attr in _NOT_READS
            ):
                return True
        if isinstance(parent, ast.Compare) and all(isinstance(op, (ast.Is, ast.IsNot)) for op in parent.ops):
            return True
        if isinstance(parent, (ast.If, ast.While, ast.IfExp)) and parent.test is node:
            return True
        return isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)

    def _describe(self, node: ast.Name, name: str) -> str:
        parent = self._parents.get(id(node))
        if node.id != name:
            if isinstance(parent, ast.Attribute):
                return f"`{node.id}.{parent.attr}` (an element of `{name}`) is read"
            return f"`{node.id}` (an element of `{name}`) is used"
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is node:
            return f"`{name}` is iterated"
        if isinstance(parent, ast.Subscript):
            return f"`{name}[...]` is read"
        if isinstance(parent, ast.Attribute):
            return f"`{name}.{parent.attr}` is read"
        if isinstance(parent, ast.Return):
            return f"`{name}` is returned"
        return f"`{name}` is used"

    def loop_start(self, line: int, called: str = "") -> int | None:
        """The first line of the outermost loop around `line`: a commit there runs again after
        the reads that precede it in the loop (`for item in items: item.name; db.commit()`).
        A comprehension is such a loop when what it repeats calls `called` (the name the commit
        point is called by) on that line: `[crud.create(db, owner, t) for t in titles]` hands
        `owner` on again after the first call committed; its first `in` runs once."""
        if self.node is None:
            return None
        starts = [
            node.lineno for node in ast.walk(self.node)
            if isinstance(node, (ast.For, ast.AsyncFor, ast.While))
            and node.lineno <= line <= (node.end_lineno or node.lineno)
        ]
        if called:
            starts += [
                node.lineno for node in ast.walk(self.node)
                if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))
                and node.lineno <= line <= (node.end_lineno or node.lineno)
                and _repeats_call(node, line, called)
            ]
        return min(starts, default=None)

    def selects_no_entity(
        self, line: int, mapped: Callable[[str], bool], tables: Callable[[str], bool] = lambda _: False
    ) -> bool:
        """Whether the statement on `line` selects only columns and expressions, written inline
        (`db.scalar(select(func.count(Item.id)))`, `db.query(Item.name).first()`), or is raw SQL
        or a bulk `update`/`delete`/`insert` returning no entity (`db.execute(delete(M)...).rowcount`,
        `db.execute(text(...)).all()`): what it returns holds no ORM object. `mapped`: whether a
        name as written is a mapped class."""
        if self.node is None:
            return False
        return no_entity(
            (s for s in ast.walk(self.node) if isinstance(s, (ast.Assign, ast.AnnAssign)) and s.lineno == line),
            mapped, tables,
        )

    def changed(self, name: str) -> bool:
        """Whether the function may put other objects in the list: a method call on it
        (`items.append(x)`), an item assigned or deleted, `items += ...`, or the list passed
        to a call that is not a builtin reading it."""
        if self.node is None:
            return True
        for node in ast.walk(self.node):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name:
                return True  # `items.append`, `items.sort`: a list has no attribute worth reading
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == name:
                if not isinstance(node.ctx, ast.Load):
                    return True
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
                return True
            if isinstance(node, ast.Call) and any(isinstance(a, ast.Name) and a.id == name for a in node.args):
                func = node.func
                if not (isinstance(func, ast.Name) and func.id in _SAFE_CALLS | {"enumerate", "zip", "sorted", "list"}):
                    return True
        return False


def no_entity(
    statements: Iterable[ast.AST], mapped: Callable[[str], bool], tables: Callable[[str], bool] = lambda _: False
) -> bool:
    """Whether the statements build at least one SQL statement and every one selects only columns
    and expressions, is raw SQL, or is bulk DML returning no entity: what running it hands back
    holds no ORM object. `mapped`: whether a name as written is a mapped class; `tables`: whether
    it is a `Table`, whose rows (`select(orders)`, `select(orders.c.id)`) are values too."""
    found = False
    for statement in statements:
        for node in ast.walk(statement):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called in _VALUE_STATEMENTS:
                found = True  # the rows it hands back, if any, are what `returning(...)` names
                continue
            if called not in ("select", "query", "returning"):
                continue
            found = True
            for arg in node.args:
                if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "label":
                    arg = arg.func.value
                if isinstance(arg, ast.Constant) or isinstance(arg, ast.Call) and name_chain(arg.func) is not None and (
                    not mapped(name_chain(arg.func) or "")
                ):
                    continue  # `func.count(...)`, a literal
                written = name_chain(arg)
                if written is not None and tables(written) or _table_column(arg, tables):
                    continue  # a Table's rows, or its columns: values
                if written is None or "." not in written or mapped(written) or not mapped(written.rsplit(".", 1)[0]):
                    return False  # an entity, an alias, a local: maybe objects
    return found


# Statements whose result holds no ORM object of their own: raw SQL, and bulk DML (whose
# `returning(...)` is read as a `select(...)` is).
_VALUE_STATEMENTS = frozenset({"text", "update", "delete", "insert"})


def function_node(tree: ast.Module | None, function: facts.Function) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The definition a function's facts describe: by name and `def` line (or a decorator's)."""
    if tree is None:
        return None
    found = _definitions.get(tree)
    if found is None:
        # One walk per tree: phase two asks for every function of a module, once per subsystem.
        found = {}
        for node in _statements(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.setdefault((node.name, node.lineno), node)
                for decorator in node.decorator_list:
                    found.setdefault((node.name, decorator.lineno), node)
        _definitions[tree] = found
    return found.get((function.name, function.line))


def _statements(tree: ast.Module) -> Iterator[ast.AST]:
    """The tree's statements, breadth first as `ast.walk` meets them: a definition is a statement,
    and statements stand only in the bodies of others, so the expressions are not entered."""
    queue = list(tree.body)
    for node in queue:
        yield node
        for field in ("body", "handlers", "orelse", "finalbody", "cases"):
            for child in getattr(node, field, ()):
                if isinstance(child, ast.stmt):
                    queue.append(child)
                elif isinstance(child, (ast.ExceptHandler, ast.match_case)):
                    queue.extend(child.body)


# A tree -> its definitions by (name, line of the `def` or of a decorator), the first in walk order.
_definitions: weakref.WeakKeyDictionary[ast.Module, dict[tuple[str, int], ast.FunctionDef | ast.AsyncFunctionDef]] = (
    weakref.WeakKeyDictionary()
)


def free_name(node: ast.AST | None, list_name: str) -> str:
    """A loop variable for a refresh loop over `list_name` in the function `node`: a word its
    source never uses, so the new local shadows nothing (a global it reads, a closure's name)."""
    text = ast.unparse(node) if node is not None else ""
    base = list_name[:-1] if list_name.endswith("s") and len(list_name) > 2 else f"{list_name}_item"
    if not base.isidentifier():
        base = "item"
    candidate, number = base, 1
    while re.search(rf"\b{re.escape(candidate)}\b", text):
        number += 1
        candidate = f"{base}_{number}"
    return candidate


def _repeats_call(node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp, line: int, called: str) -> bool:
    """Whether the comprehension calls `called` on `line` in what it evaluates per element."""
    first, *others = node.generators
    repeated: list[ast.AST] = [*first.ifs, *others]
    repeated += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
    for part in repeated:
        for inner in ast.walk(part):
            if isinstance(inner, ast.Call) and inner.lineno == line:
                func = inner.func
                name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
                if name == called:
                    return True
    return False
