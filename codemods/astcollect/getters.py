"""What `operator.attrgetter` and `operator.methodcaller` read on the objects they are applied to.

`sorted(items, key=attrgetter("warehouse.city"))` reads `item.warehouse.city` on each element,
as `key=lambda i: i.warehouse.city` does: a relationship read there loads lazily, MissingGreenlet
under AsyncSession. The object flow (`objects.py`) records such a read as a `getattr` use of each
name along the path (a `call` use for `methodcaller("describe")`), on what the getter is applied
to: the elements of the iterable `sorted`, `min`, `max`, `list.sort`, `map`, `filter` and
`itertools.groupby` are given with it, or the argument of a direct call (`attrgetter("a")(book)`,
also through a local bound only to getters, `by_city(book)`). A getter the body hands anywhere
else may be applied to anything: its reads are recorded on an object the flow cannot follow,
which phase two judges by the names read, and a name computed at run time
(`attrgetter(field)`) is read as `getattr(obj, field)` is.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterable

from async_migrate.codemods.astcollect.syntax import string

_FACTORIES = frozenset({"attrgetter", "methodcaller"})
# Builtins calling the function given as `key=` on each element of their positional argument.
_KEYED = frozenset({"sorted", "min", "max"})
# Builtins calling the function given first on each element of the iterables after it.
_MAPPING = frozenset({"map", "filter"})

# One getter applied: (line, the getter as written, the node it is applied to, or None when the
# body hands the getter somewhere the walk cannot follow, "iter" when applied to the elements of
# that node and "value" for the node itself, how (`getattr` or `call`), the names read in turn).
Applied = tuple[int, str, "ast.expr | None", str, str, tuple[str, ...]]


def applied(nodes: Iterable[ast.AST], local: frozenset[str], statements: dict[str, list[ast.expr]]) -> list[Applied]:
    """Every application of a getter in a function body (`nodes`: its walk outside nested
    scopes; `statements`: the values assigned to each bare name)."""
    nodes = nodes if isinstance(nodes, list) else list(nodes)
    factories = [n for n in nodes if type(n) is ast.Call and _is_factory(n, local)]
    if not factories:
        return []
    # `by_city = attrgetter("warehouse.city")`: a local bound to getters only
    named: dict[str, list[ast.Call]] = {}
    for name, values in statements.items():
        calls = [v for v in values if type(v) is ast.Call and _is_factory(v, local)]
        if values and len(calls) == len(values):
            named[name] = calls
    ids = {id(f) for f in factories}
    bound = {id(v) for values in named.values() for v in values}
    consumed: set[int] = set()
    used: Counter[str] = Counter()
    found: list[Applied] = []

    def getters(node: ast.expr | None) -> list[ast.Call]:
        if type(node) is ast.Call and id(node) in ids:
            return [node]
        if type(node) is ast.Name and node.id in named:
            return named[node.id]
        return []

    def apply(getter: ast.expr | None, target: ast.expr, how: str) -> None:
        calls = getters(getter)
        if not calls:
            return
        assert getter is not None
        if type(getter) is ast.Name:
            used[getter.id] += 1
        else:
            consumed.add(id(getter))
        for call in calls:
            found.extend(_reads(call, getter.lineno, target, how))

    for item in nodes:
        if type(item) is not ast.Call or any(type(a) is ast.Starred for a in item.args):
            continue
        func = item.func
        key = next((k.value for k in item.keywords if k.arg == "key"), None)
        if getters(func) and len(item.args) == 1 and not item.keywords:
            apply(func, item.args[0], "value")
        elif type(func) is ast.Name and func.id not in local:
            if func.id in _KEYED and key is not None and item.args:
                for argument in item.args if len(item.args) > 1 else ():
                    apply(key, argument, "value")
                if len(item.args) == 1:
                    apply(key, item.args[0], "iter")
            elif func.id in _MAPPING and len(item.args) >= 2 and not item.keywords:
                for argument in item.args[1:]:
                    apply(item.args[0], argument, "iter")
            elif func.id == "groupby" and item.args:
                given = key if key is not None else (item.args[1] if len(item.args) > 1 else None)
                apply(given, item.args[0], "iter")
        elif type(func) is ast.Attribute:
            if func.attr == "sort" and key is not None and not item.args:
                apply(key, func.value, "iter")
            elif func.attr == "groupby" and type(func.value) is ast.Name and func.value.id == "itertools" and item.args:
                given = key if key is not None else (item.args[1] if len(item.args) > 1 else None)
                apply(given, item.args[0], "iter")
    loads = Counter(n.id for n in nodes if type(n) is ast.Name and type(n.ctx) is ast.Load and n.id in named)
    for call in factories:
        if id(call) in consumed:
            continue
        if id(call) in bound:
            # a local bound to it: handed on, returned or stored wherever one of its reads is not an application
            name = next(name for name, values in named.items() if any(v is call for v in values))
            if loads[name] == used[name]:
                continue
        found.extend(_reads(call, call.lineno, None, "value"))
    return found


def _is_factory(node: ast.Call, local: frozenset[str]) -> bool:
    func = node.func
    if type(func) is ast.Name:
        return func.id in _FACTORIES and func.id not in local
    return (
        type(func) is ast.Attribute and func.attr in _FACTORIES
        and type(func.value) is ast.Name and func.value.id == "operator"
    )


def _reads(call: ast.Call, line: int, target: ast.expr | None, how: str) -> list[Applied]:
    written = ast.unparse(call)
    name = call.func.id if type(call.func) is ast.Name else call.func.attr  # type: ignore[attr-defined]
    if name == "methodcaller":
        method = string(call.args[0]) if call.args else None
        return [(line, written, target, how, "call", (method,) if method is not None else ("",))]
    if not call.args or call.keywords:
        return [(line, written, target, how, "getattr", ("",))]
    found: list[Applied] = []
    for argument in call.args:
        path = string(argument)
        # a name computed at run time: read as `getattr(obj, name)` is
        found.append((line, written, target, how, "getattr", tuple(path.split(".")) if path is not None else ("",)))
    return found
