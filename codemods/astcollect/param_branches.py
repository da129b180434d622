"""The `if` statements of a function's own body that a parameter alone decides, and the constants a
call hands.

`def create_session(scoped=True): if scoped: Session = registry else: Session = maker` entered as
`create_session(scoped=False)`: at that call the first branch never runs, so what it binds is no
value of `Session` there (`codemods.handed_constants`). Read only for a parameter nothing in the
body binds again (nested scopes included, which may declare it `nonlocal`), tested alone as
`if p:`, `if not p:`, `if p is None:` / `is not` (`True`, `False` too) or `if p == "x":` / `!=`
against a constant; `elif` is an `if` in the `else` branch. A call's constants are read only where
it unpacks nothing (`*args`, `**kwargs` may hand any parameter anything).
"""

from __future__ import annotations

import ast
import math

from async_migrate.codemods.astcollect.syntax import walk_fields

# (parameter, its default as the `repr` of a constant or None, the test: "truth", "not", "is",
# "is not", "==" or "!=", the constant compared as its `repr` ("" for a truth test), the first
# and last lines of the `if` branch, those of the `else` branch (0, 0 when there is none))
ParamTest = tuple[str, str | None, str, str, int, int, int, int]
# A call's constant arguments: (position or keyword, the constant's `repr`)
Literals = tuple[tuple[int | str, str], ...]

_CONSTANTS = (str, bytes, int, float, bool, type(None))
_NO_LITERALS: Literals = ()
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPARED = {ast.Is: "is", ast.IsNot: "is not", ast.Eq: "==", ast.NotEq: "!="}
# The fields holding statements (`try`'s handlers and `match`'s cases hold them in turn).
_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")
_NESTED_KINDS = frozenset(_NESTED)


def constant(node: ast.AST | None) -> str | None:
    """The `repr` of a constant of an immutable scalar type (`True`, `None`, `"x"`, `3`), or None;
    not `1e999`, whose `repr` (`inf`) reads back as no constant."""
    if type(node) is ast.Constant and type(node.value) in _CONSTANTS:
        value = node.value
        return repr(value) if type(value) is not float or math.isfinite(value) else None
    return None


def literal_args(node: ast.Call) -> Literals | None:
    """The constant arguments of `node`, by position or keyword; None where it unpacks `*` or `**`."""
    found: list[tuple[int | str, str]] | None = None
    for number, given in enumerate(node.args):
        kind = type(given)
        if kind is ast.Starred:
            return None
        if kind is ast.Constant and (text := constant(given)) is not None:
            found = found or []
            found.append((number, text))
    for keyword in node.keywords:
        if keyword.arg is None:
            return None
        if type(keyword.value) is ast.Constant and (text := constant(keyword.value)) is not None:
            found = found or []
            found.append((keyword.arg, text))
    return tuple(found) if found else _NO_LITERALS


def param_tests(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[ParamTest, ...]:
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    if not positional and not args.kwonlyargs:
        return ()
    ifs = [item for item in _own(node.body) if type(item) is ast.If]
    if not ifs:
        return ()
    defaults: dict[str, ast.expr | None] = {
        p.arg: d for p, d in zip(positional, [None] * (len(positional) - len(args.defaults)) + list(args.defaults))
    }
    defaults.update((p.arg, d) for p, d in zip(args.kwonlyargs, args.kw_defaults))
    tested = [(item, test) for item in ifs if (test := _test(item.test)) is not None and test[0] in defaults]
    if not tested:
        return ()
    rebound = _bound_names(node)
    found: list[ParamTest] = []
    for item, (name, op, value) in tested:
        if name in rebound:
            continue
        then = _span(item.body)
        otherwise = _span(item.orelse) if item.orelse else (0, 0)
        found.append((name, constant(defaults[name]), op, value, *then, *otherwise))
    return tuple(sorted(found, key=lambda test: test[4]))


def _own(body: list[ast.stmt]) -> list[ast.AST]:
    """The statements of the own body, at any depth: an `if` is a statement, so the walk goes
    through the statement lists alone, never into an expression."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(body)
    while stack:
        item = stack.pop()
        if type(item) in _NESTED_KINDS:
            continue
        found.append(item)
        for field in _STATEMENT_LISTS:
            inner = getattr(item, field, None)
            if inner:
                stack.extend(inner)
    return found


def _span(statements: list[ast.stmt]) -> tuple[int, int]:
    return statements[0].lineno, statements[-1].end_lineno or statements[-1].lineno


def _test(test: ast.expr) -> tuple[str, str, str] | None:
    """(parameter, test, constant) of an `if` test on a bare name alone, or None."""
    if type(test) is ast.Name:
        return test.id, "truth", ""
    if type(test) is ast.UnaryOp and type(test.op) is ast.Not and type(test.operand) is ast.Name:
        return test.operand.id, "not", ""
    if type(test) is not ast.Compare or len(test.ops) != 1:
        return None
    op = _COMPARED.get(type(test.ops[0]))
    left, right = test.left, test.comparators[0]
    if type(left) is not ast.Name and op in ("==", "!="):
        left, right = right, left
    value = constant(right)
    if op is None or type(left) is not ast.Name or value is None:
        return None
    return left.id, op, value


def _bound_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Every name the body may bind, nested scopes included (a `nonlocal` rebinds the parameter)."""
    found: set[str] = set()
    for item in walk_fields(node):
        kind = type(item)
        if kind is ast.Name and type(item.ctx) is not ast.Load:  # type: ignore[attr-defined]
            found.add(item.id)  # type: ignore[attr-defined]
        elif kind in (ast.Global, ast.Nonlocal):
            found.update(item.names)  # type: ignore[attr-defined]
        elif kind is ast.alias:
            found.add(item.asname or item.name.partition(".")[0])  # type: ignore[attr-defined]
        elif kind in (ast.ExceptHandler, ast.MatchAs, ast.MatchStar) and item.name:  # type: ignore[attr-defined]
            found.add(item.name)  # type: ignore[attr-defined]
        elif kind is ast.MatchMapping and item.rest:  # type: ignore[attr-defined]
            found.add(item.rest)  # type: ignore[attr-defined]
        elif item is not node and kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            found.add(item.name)  # type: ignore[attr-defined]
    return found
