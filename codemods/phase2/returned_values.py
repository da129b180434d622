"""Whether a helper visibly returns values only, no ORM object: a list of column values of
the objects it loads (`[i.name for i in db.scalars(select(Item))]`), dicts or tuples built
from them, strings, numbers. Such a result holds nothing a commit expires, so a read of it
after the commit is no stale read, and `refresh()` of it would raise. Read from the helper's
syntax tree; anything else (a comprehension of the objects themselves, a relationship, a call
it cannot tell) is not values."""

from __future__ import annotations

import ast
from collections.abc import Callable

from async_migrate.codemods.astcollect.syntax import scope_nodes

# Builtins whose result is a value made from their arguments (never an object passed through).
_VALUE_BUILTINS = frozenset({"str", "int", "float", "bool", "len", "round", "abs", "repr", "format"})
# Builtins building a container of what they are given (the items judged).
_CONTAINER_BUILTINS = frozenset({"list", "tuple", "set", "sorted", "frozenset"})
_LOADERS = frozenset({"select", "query"})


def returns_values(
    node: ast.FunctionDef | ast.AsyncFunctionDef, mapped: Callable[[str], str | None], column: Callable[[str, str], bool]
) -> bool:
    """Whether every `return` of the function (not of its nested functions) hands back values
    only. `mapped(written)` is the mapped class a name as written in the module stands for
    (None: no mapped class); `column(cls, attribute)` says the attribute is a plain column."""
    returns = [n for n in scope_nodes(node) if isinstance(n, ast.Return)]
    return bool(returns) and all(
        r.value is not None and _values(r.value, {}, mapped, column) for r in returns
    )


def _values(
    expr: ast.expr, targets: dict[str, str], mapped: Callable[[str], str | None], column: Callable[[str, str], bool]
) -> bool:
    """Whether `expr` holds values only; `targets`: comprehension variables -> the mapped class
    of the objects they run over."""

    def judge(e: ast.expr) -> bool:
        return _values(e, targets, mapped, column)

    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, ast.JoinedStr):
        return True  # an f-string is a str, whatever it formats
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id in targets:
        return column(targets[expr.value.id], expr.attr)
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return all(judge(e) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(v is not None and judge(v) for v in expr.values)
    if isinstance(expr, ast.Compare):
        return True  # a flag
    if isinstance(expr, (ast.BinOp, ast.BoolOp, ast.UnaryOp)):
        return all(judge(e) for e in _operands(expr))
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and not expr.keywords:
        if expr.func.id in _VALUE_BUILTINS:
            return True  # a number, a flag or a string, whatever it is given
        return expr.func.id in _CONTAINER_BUILTINS and all(judge(a) for a in expr.args)
    if isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        inner = dict(targets)
        for generator in expr.generators:
            if not isinstance(generator.target, ast.Name):
                return False
            cls = _loaded_class(generator.iter, mapped)
            if cls is None:
                inner.pop(generator.target.id, None)
            else:
                inner[generator.target.id] = cls
        if isinstance(expr, ast.DictComp):
            return _values(expr.value, inner, mapped, column)
        return _values(expr.elt, inner, mapped, column)
    return False


def _operands(expr: ast.expr) -> list[ast.expr]:
    if isinstance(expr, ast.BinOp):
        return [expr.left, expr.right]
    if isinstance(expr, ast.BoolOp):
        return list(expr.values)
    if isinstance(expr, ast.UnaryOp):
        return [expr.operand]
    return []


def _loaded_class(iterable: ast.expr, mapped: Callable[[str], str | None]) -> str | None:
    """The one mapped class a query in `iterable` loads (`db.scalars(select(Item))`,
    `db.query(Item).all()`), or None."""
    found: set[str] = set()
    for node in ast.walk(iterable):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name not in _LOADERS:
            continue
        if len(node.args) != 1 or node.keywords:
            return None
        written = ast.unparse(node.args[0])
        cls = mapped(written)
        if cls is None:
            return None
        found.add(cls)
    return next(iter(found)) if len(found) == 1 else None
