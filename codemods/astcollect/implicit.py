"""The special methods a function body runs without a call expression naming them.

`for post in posts:`, `len(posts)`, `if posts:`, `posts[key]`, `key in posts`, `first, *rest =
posts`, `list(posts)`, `f"{posts}"`: Python runs the object's `__iter__`, `__len__`, `__bool__`,
`__getitem__`, `__contains__`, `__eq__` or `__str__`, code of the project's own when the object is an
instance of a project class (a lazy collection querying on each use). The index turns each use
into an edge of the call graph to the method the object's class defines (`Project.object_edges`),
as it does for the `__enter__` and `__exit__` a `with` runs; the protocol's fallbacks are the
index's too (`__len__` where no `__bool__` is defined).

Only the function's own code: a nested function or lambda runs where it is called, and a name a
comprehension binds is no value of the enclosing scope.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

from async_migrate.codemods.astcollect.syntax import children, walk_fields

# Builtins iterating their first positional argument (`sorted(posts)`), and those iterating each.
_ITERATE_FIRST = frozenset({
    "list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max", "any", "all", "enumerate", "iter", "dict",
})
_ITERATE_EACH = frozenset({"zip"})
_ITERATE_AFTER_FIRST = frozenset({"map", "filter"})
# Builtins running one special method of their argument, by the protocol it belongs to.
_ONE_ARGUMENT = {"len": "len", "bool": "bool", "reversed": "reversed", "next": "next", "str": "str", "repr": "repr",
                 "format": "format"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPE_KINDS = frozenset(_SCOPES)
# The nodes that may run a special method (`_walk`'s cases), and those holding no node that does.
_USING = frozenset({
    ast.For, ast.If, ast.While, ast.Assert, ast.IfExp, ast.BoolOp, ast.UnaryOp, ast.Subscript, ast.Compare,
    ast.Starred, ast.Assign, ast.AnnAssign, ast.YieldFrom, ast.FormattedValue, ast.Call,
})
_LEAVES = frozenset({ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del})
# The receivers an expression the value flow spells can stand for: a name, an attribute, a call.
_SPELLABLE = (ast.Name, ast.Attribute, ast.Call)


def uses(body: list[ast.stmt], builtin: Callable[[str], bool]) -> list[tuple[ast.expr, str]]:
    """Each (receiver, protocol) of the body's own code; `builtin(name)`: the name is the builtin
    of that name here (not a local, an import or a module-level definition shadowing it)."""
    found: list[tuple[ast.expr, str]] = []
    for statement in body:
        _walk(statement, builtin, frozenset(), found)
    # a test's `and`/`or` operands are met twice: as the test's and as the operator's
    unique = {(id(node), protocol): (node, protocol) for node, protocol in found if type(node) in _SPELLABLE}
    return list(unique.values())


def _tested(node: ast.expr) -> Iterator[ast.expr]:
    """The values whose truth a test reads: each operand of `and`/`or`, `not`'s operand."""
    if type(node) is ast.BoolOp:
        for value in node.values:
            yield from _tested(value)
    elif type(node) is ast.UnaryOp and type(node.op) is ast.Not:
        yield from _tested(node.operand)
    else:
        yield node


def _bound(target: ast.AST) -> set[str]:
    return {n.id for n in walk_fields(target) if type(n) is ast.Name}


def _roots(node: ast.AST) -> set[str]:
    return {n.id for n in walk_fields(node) if type(n) is ast.Name}


def _walk(node: ast.AST, builtin: Callable[[str], bool], bound: frozenset[str], found: list[tuple[ast.expr, str]]) -> None:
    kind = type(node)
    # The commonest nodes run no special method themselves: only their children are read, an
    # attribute's one child without the list `children` builds.
    while kind is ast.Attribute:
        node = node.value  # type: ignore[attr-defined]
        kind = type(node)
    if kind not in _USING:
        if kind in _LEAVES or kind in _SCOPE_KINDS:
            return
        if kind in _COMPREHENSIONS:
            _comprehension(node, builtin, bound, found)  # type: ignore[arg-type]
            return
        for child in children(node):
            if type(child) not in _LEAVES:
                _walk(child, builtin, bound, found)
        return
    here: list[tuple[ast.expr, str]] = []
    if kind is ast.For:
        here.append((node.iter, "iter"))  # type: ignore[attr-defined]
    elif kind in (ast.If, ast.While, ast.Assert, ast.IfExp):
        here.extend((value, "bool") for value in _tested(node.test))  # type: ignore[attr-defined]
    elif kind is ast.BoolOp:
        # `a or b` tests each operand but the last, whose value it gives
        here.extend((value, "bool") for value in node.values[:-1])  # type: ignore[attr-defined]
    elif kind is ast.UnaryOp and type(node.op) is ast.Not:  # type: ignore[attr-defined]
        here.append((node.operand, "bool"))  # type: ignore[attr-defined]
    elif kind is ast.Subscript:
        context = type(node.ctx)  # type: ignore[attr-defined]
        protocol = "setitem" if context is ast.Store else "delitem" if context is ast.Del else "getitem"
        here.append((node.value, protocol))  # type: ignore[attr-defined]
    elif kind is ast.Compare:
        operands = [node.left, *node.comparators]  # type: ignore[attr-defined]
        for index, operator in enumerate(node.ops):  # type: ignore[attr-defined]
            if type(operator) in (ast.In, ast.NotIn):
                here.append((operands[index + 1], "contains"))
            elif type(operator) in (ast.Eq, ast.NotEq):
                # either side's method may answer (the right one's when the left's declines)
                protocol = "eq" if type(operator) is ast.Eq else "ne"
                here.extend((operand, protocol) for operand in operands[index:index + 2])
    elif kind is ast.Starred and type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
        here.append((node.value, "iter"))  # type: ignore[attr-defined]
    elif kind in (ast.Assign, ast.AnnAssign) and getattr(node, "value", None) is not None:
        targets = node.targets if kind is ast.Assign else [node.target]  # type: ignore[attr-defined]
        if any(type(t) in (ast.Tuple, ast.List) for t in targets):
            here.append((node.value, "iter"))  # type: ignore[attr-defined]  # `first, *rest = posts`
    elif kind is ast.YieldFrom:
        here.append((node.value, "iter"))  # type: ignore[attr-defined]
    elif kind is ast.FormattedValue:
        conversion = node.conversion  # type: ignore[attr-defined]
        here.append((node.value, "repr" if conversion in (97, 114) else "str" if conversion == 115 else "format"))  # type: ignore[attr-defined]
    elif kind is ast.Call and type(node.func) is ast.Name:  # type: ignore[attr-defined]
        name = node.func.id  # type: ignore[attr-defined]
        args = [a for a in node.args if type(a) is not ast.Starred]  # type: ignore[attr-defined]
        if args and name not in bound and builtin(name):
            if name in _ITERATE_FIRST:
                here.append((args[0], "iter"))
            elif name in _ITERATE_EACH:
                here.extend((a, "iter") for a in args)
            elif name in _ITERATE_AFTER_FIRST:
                here.extend((a, "iter") for a in args[1:])
            elif name in _ONE_ARGUMENT:
                here.append((args[0], _ONE_ARGUMENT[name]))
    if here:
        # only a comprehension's names are bound here: outside one, every use counts
        found.extend((value, protocol) for value, protocol in here if not bound or not _roots(value) & bound)
    for child in children(node):
        if type(child) not in _LEAVES:
            _walk(child, builtin, bound, found)


def _comprehension(
    node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp,
    builtin: Callable[[str], bool],
    bound: frozenset[str],
    found: list[tuple[ast.expr, str]],
) -> None:
    """The first iterable is read in the enclosing scope, the rest where the comprehension's
    names are bound: a use on one of those names is on no value the enclosing scope holds."""
    inner = bound
    for generator in node.generators:
        if not generator.is_async and not _roots(generator.iter) & inner:
            found.append((generator.iter, "iter"))
        _walk(generator.iter, builtin, inner, found)
        inner = inner | _bound(generator.target)
        for test in generator.ifs:
            found.extend((value, "bool") for value in _tested(test) if not _roots(value) & inner)
            _walk(test, builtin, inner, found)
    parts = [node.key, node.value] if type(node) is ast.DictComp else [node.elt]  # type: ignore[union-attr]
    for part in parts:
        _walk(part, builtin, inner, found)
