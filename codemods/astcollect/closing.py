"""Sessions opened by assignment (`s = SessionLocal()`) that the function closes on every path.

A `close()` in the `finally` of a `try` around the opening, or right after it, runs whatever
happens in between; so does leaving a `with s:` (or `with contextlib.closing(s):`) that follows
the opening. A `close()` anywhere else (at the end of the body, in the `try` body, in an
`except`) is skipped by an exception or an early return, and a synchronous Session left so is
closed by the garbage collector, which an AsyncSession's connection is not (`phase2/unclosed.py`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from async_migrate.codemods.astcollect.syntax import dotted

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_TRIES = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)
_CLOSING = ("closing", "contextlib.closing")


def closed_on_every_path(
    node: ast.FunctionDef | ast.AsyncFunctionDef, line_of: Callable[[ast.AST], int]
) -> tuple[int, ...]:
    """Lines of the opening calls (`name = call()`) whose name is closed on every path after."""
    found: list[int] = []
    _block(node.body, (), found, line_of)
    return tuple(found)


def _block(
    statements: list[ast.stmt], guarding: tuple[frozenset[str], ...], found: list[int],
    line_of: Callable[[ast.AST], int],
) -> None:
    """`guarding`: for each `try` around this block, the names its `finally` closes."""
    for position, statement in enumerate(statements):
        name = _opened(statement)
        if name is not None:
            following = statements[position + 1] if position + 1 < len(statements) else None
            if any(name in closed for closed in guarding) or (
                following is not None and _closes(following, name)
            ):
                found.append(line_of(statement.value))  # type: ignore[attr-defined]
        if isinstance(statement, _NESTED):
            continue
        if isinstance(statement, _TRIES):
            closed = frozenset(_finally_closes(statement.finalbody))
            inner = (*guarding, closed) if closed else guarding
            _block(statement.body, inner, found, line_of)
            for handler in statement.handlers:
                _block(handler.body, inner, found, line_of)
            _block(statement.orelse, inner, found, line_of)
            _block(statement.finalbody, guarding, found, line_of)
            continue
        for field in ("body", "orelse"):
            children = getattr(statement, field, None)
            if isinstance(children, list):
                _block(children, guarding, found, line_of)
        for case in getattr(statement, "cases", ()):
            _block(case.body, guarding, found, line_of)


def _opened(statement: ast.stmt) -> str | None:
    if (
        isinstance(statement, ast.Assign) and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.Call)
    ):
        return statement.targets[0].id
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and isinstance(statement.value, ast.Call):
        return statement.target.id
    return None


def _closes(statement: ast.stmt, name: str) -> bool:
    """The statement right after the opening closes `name` whatever happens in it: a `try` whose
    `finally` closes it, or a `with` leaving the Session itself or `closing(name)`."""
    if isinstance(statement, _TRIES):
        return name in _finally_closes(statement.finalbody)
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        for item in statement.items:
            entered = item.context_expr
            if isinstance(entered, ast.Name) and entered.id == name:
                return True
            if (
                isinstance(entered, ast.Call) and dotted(entered.func) in _CLOSING and len(entered.args) == 1
                and isinstance(entered.args[0], ast.Name) and entered.args[0].id == name
            ):
                return True
    return False


def _finally_closes(statements: list[ast.stmt]) -> set[str]:
    """Names a `finally` block closes unconditionally, or under a test of that name only
    (`if s is not None: s.close()`, for a Session opened inside the `try`)."""
    closed: set[str] = set()
    for statement in statements:
        name = _close_of(statement)
        if name is not None:
            closed.add(name)
        elif isinstance(statement, ast.If) and not statement.orelse:
            tested = {n.id for n in ast.walk(statement.test) if isinstance(n, ast.Name)}
            for inner in statement.body:
                name = _close_of(inner)
                if name is not None and tested == {name}:
                    closed.add(name)
    return closed


def _close_of(statement: ast.stmt) -> str | None:
    """`s.close()` or `await s.close()` as a whole statement: the name closed."""
    if not isinstance(statement, ast.Expr):
        return None
    value = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
    if (
        isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "close"
        and isinstance(value.func.value, ast.Name) and not value.args and not value.keywords
    ):
        return value.func.value.id
    return None
