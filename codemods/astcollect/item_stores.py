"""What a class's methods put into the containers its instances hold, built without annotation
(`self._state = {}`, then `self._state[key] = PersistentConfig(...)`): read so that a method
called on an item (`self._state[key].save()`) runs the methods of what was put in, where every
store is seen (`facts.ClassFacts.item_stores`), and is unverified where one is not.

An attribute counts once one of the class's methods binds it to an empty or literal container
(`{}`, `[]`, `dict()`, `{"a": A()}`), also by hand (`super().__setattr__("_state", {})`). Its stores are item assignments, `setdefault`, `append`
and `insert` on `self.attr`, and the values of the display; anything else done with the
container (bound again to another value, handed to a call, aliased, `update(...)`) makes what
it holds unreadable, as a store whose value the value flow cannot spell is.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable

from async_migrate.codemods.astcollect.syntax import methods

_EMPTY_CALLS = frozenset({"dict", "list", "OrderedDict", "defaultdict"})
_STORES = frozenset({"setdefault", "append", "insert"})
# what reads or removes items without putting any in: keeps every store seen
_READS = frozenset({
    "get", "items", "values", "keys", "pop", "popitem", "clear", "remove", "discard", "copy", "index", "count",
    "__contains__", "__getitem__",
})

Spell = Callable[[ast.AST, frozenset[str]], "str | None"]


def read(
    statements: Iterable[ast.stmt], spell: Spell
) -> tuple[dict[str, list[tuple[int, int, str]]], dict[str, int]]:
    """(attribute -> [(the storing method's line, the store's line, the stored value in the
    value-flow notation, or "?" where it cannot be spelled)], the attributes whose contents are
    unreadable -> the line making them so) over the methods of one class body. `spell(node,
    locals)` spells an expression as the collector does."""
    reader = _Reader(spell)
    for method, owner in methods(statements):
        reader.method(method, owner)
    containers = reader.containers
    found = {a: s for a, s in reader.stores.items() if a in containers}
    return found, {a: line for a, line in reader.unreadable.items() if a in containers}


class _Reader:
    def __init__(self, spell: Spell) -> None:
        self.spell = spell
        self.stores: dict[str, list[tuple[int, int, str]]] = {}
        self.containers: set[str] = set()
        self.unreadable: dict[str, int] = {}  # attribute -> the first line making it so
        self.line = 0
        self.local: frozenset[str] = frozenset()

    def method(self, method: ast.FunctionDef | ast.AsyncFunctionDef, owner: str) -> None:
        parents: dict[ast.AST, ast.AST] = {}
        names = {a.arg for a in (*method.args.posonlyargs, *method.args.args, *method.args.kwonlyargs)}
        names |= {a.arg for a in (method.args.vararg, method.args.kwarg) if a is not None}
        for node in ast.walk(method):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
            if type(node) is ast.Name and type(node.ctx) is ast.Store:
                names.add(node.id)
        self.line, self.local = method.lineno, frozenset(names)
        for node in parents:
            bound = _set_by_hand(node, owner)
            if bound is not None:
                self.bind(*bound, node)
        for node, parent in parents.items():
            if type(node) is ast.Attribute and type(node.value) is ast.Name and node.value.id == owner:
                self.use(node, parent, parents.get(parent))

    def use(self, node: ast.Attribute, parent: ast.AST, above: ast.AST | None) -> None:
        attribute = node.attr
        if type(parent) is ast.Assign and node in parent.targets:
            self.bind(attribute, parent.value, parent)
        elif type(parent) is ast.AnnAssign and parent.target is node and parent.value is not None:
            self.bind(attribute, parent.value, parent)
        elif type(parent) is ast.Subscript and parent.value is node:
            if type(parent.ctx) is ast.Store:
                self.store(attribute, above.value if type(above) is ast.Assign else None, parent)
        elif type(parent) is ast.Attribute and parent.value is node and parent.attr in _STORES:
            called = type(above) is ast.Call and above.func is parent and above.args
            self.store(attribute, above.args[-1] if called else None, parent)  # type: ignore[union-attr]
        elif type(parent) is ast.Attribute and parent.value is node and parent.attr in _READS:
            return
        elif type(parent) in (ast.Compare, ast.For, ast.comprehension, ast.Delete) or (
            type(parent) is ast.Call and type(parent.func) is ast.Name and parent.func.id in _READING_CALLS
        ):
            return  # `k in self._state`, `for k in self._state`, `len(self._state)`
        else:
            self.unreadable.setdefault(attribute, node.lineno)

    def store(self, attribute: str, value: ast.AST | None, at: ast.AST) -> None:
        if value is not None and _plain(value):
            return  # `setdefault(bucket, {})`, `[k] = 0`: holds no object whose methods run
        spelled = self.spell(value, self.local) if value is not None else None
        self.stores.setdefault(attribute, []).append((self.line, at.lineno, spelled or "?"))  # type: ignore[attr-defined]

    def bind(self, attribute: str, value: ast.expr, at: ast.AST) -> None:
        values = _display_values(value)
        if values is None:
            self.unreadable.setdefault(attribute, at.lineno)  # type: ignore[attr-defined]
            return
        self.containers.add(attribute)
        for item in values:
            self.store(attribute, item, at)
        factory = _default_factory(value)
        if factory is not None:  # `defaultdict(PersistentConfig)`: each missing key builds one
            spelled = self.spell(factory, self.local)
            made = f"{spelled}()" if spelled else "?"
            self.stores.setdefault(attribute, []).append((self.line, at.lineno, made))  # type: ignore[attr-defined]


def _set_by_hand(node: ast.AST, owner: str) -> tuple[str, ast.expr] | None:
    """`super().__setattr__("_state", {})` or `object.__setattr__(self, "_state", {})` (a class
    whose own `__setattr__` does more): (the attribute, the value bound)."""
    if type(node) is not ast.Call or type(node.func) is not ast.Attribute or node.func.attr != "__setattr__":
        return None
    args = node.args
    receiver = node.func.value
    if type(receiver) is ast.Call and type(receiver.func) is ast.Name and receiver.func.id == "super":
        named = args[:2] if len(args) == 2 else None
    elif len(args) == 3 and type(args[0]) is ast.Name and args[0].id == owner:
        named = args[1:]
    else:
        named = None
    if named is None or type(named[0]) is not ast.Constant or not isinstance(named[0].value, str):
        return None
    return named[0].value, named[1]


_READING_CALLS = frozenset({"len", "list", "sorted", "iter", "bool"})


def _default_factory(value: ast.expr) -> ast.expr | None:
    """`defaultdict(Factory)`'s factory."""
    if type(value) is not ast.Call or len(value.args) != 1 or value.keywords:
        return None
    func = value.func
    name = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else ""
    return value.args[0] if name == "defaultdict" else None


def _display_values(value: ast.expr) -> list[ast.expr] | None:
    """The values an empty or literal container starts with; None for anything else."""
    if isinstance(value, ast.Dict):
        return list(value.values) if all(k is not None for k in value.keys) else None
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return list(value.elts)
    if isinstance(value, ast.Call) and not value.keywords and (not value.args or _default_factory(value) is not None):
        func = value.func
        name = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else ""
        return [] if name in _EMPTY_CALLS else None
    return None


def _plain(value: ast.AST) -> bool:
    """A constant, or an empty or literal container of constants (`0`, `"x"`, `{}`, `[]`, `{"n": 0}`,
    `dict()`): a value no method called on it could do Session work through."""
    if type(value) is ast.Constant:
        return True
    if type(value) is ast.Dict:
        return all(k is not None and _plain(k) for k in value.keys) and all(_plain(v) for v in value.values)
    if type(value) in (ast.List, ast.Tuple, ast.Set):
        return all(_plain(e) for e in value.elts)  # type: ignore[attr-defined]
    return type(value) is ast.Call and _display_values(value) == [] and _default_factory(value) is None
