"""Sessions opened by assignment (`s = SessionLocal()`) that the function closes on every path.

A `close()` in the `finally` of a `try` around the opening, or right after it, runs whatever
happens in between; so does leaving a `with s:` (or `with contextlib.closing(s):`) that follows
the opening. An optional Session's fallback opened in an `if` (`if db is None: db =
SessionLocal(); own = True`) and closed in the `finally` of the `try` right after that `if`,
under the flag it set (`if own: db.close()`), is closed on every path too, and so is one opened
under `if own:` inside a `try` whose `finally` closes it under `if own:`. A `close()` anywhere else (at the end of the body, in the `try` body, in an
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


# The statement right after an `if` whose body ends in the opening, and the flags the `if`
# tests (`if own:`); (None, empty) outside such a body.
_After = tuple[ast.stmt | None, frozenset[str]]
_NOTHING_AFTER: _After = (None, frozenset())


def _block(
    statements: list[ast.stmt], guarding: tuple[frozenset[str], ...], found: list[int],
    line_of: Callable[[ast.AST], int], after: _After = _NOTHING_AFTER,
) -> None:
    """`guarding`: for each `try` around this block, the names its `finally` closes."""
    for position, statement in enumerate(statements):
        name = _opened(statement)
        if name is not None:
            following, flags = _following(statements, position, after)
            # `if own: db = SessionLocal()` inside a `try` whose `finally` closes it under `if own:`
            under_flag = {f"{name}?{flag}" for flag in after[1]}
            if any(name in closed or under_flag & closed for closed in guarding) or (
                following is not None and _closes(following, name, flags)
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
        if isinstance(statement, ast.If):
            # the fallback of an optional Session (`if db is None: db = SessionLocal()`) is
            # closed by what follows the `if`
            next_statement = statements[position + 1] if position + 1 < len(statements) else None
            tested = frozenset({statement.test.id} if isinstance(statement.test, ast.Name) else ())
            _block(statement.body, guarding, found, line_of, (next_statement, tested))
            _block(statement.orelse, guarding, found, line_of, (next_statement, frozenset()))
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


def _following(statements: list[ast.stmt], position: int, after: _After) -> _After:
    """What runs right after the opening at `position` that can close it: the next statement,
    past flags set to a constant (`own = True`), or, at the end of an `if` body, the statement
    after the `if`; with the flags a `finally` may test before closing."""
    flags = set(after[1])
    for statement in statements[position + 1:]:
        if (
            isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.Constant)
            and statement.value.value
        ):
            flags.add(statement.targets[0].id)
            continue
        return statement, frozenset(flags)
    return after[0], frozenset(flags)


def _closes(statement: ast.stmt, name: str, flags: frozenset[str] = frozenset()) -> bool:
    """The statement right after the opening closes `name` whatever happens in it: a `try` whose
    `finally` closes it (under a test of `flags` it was opened with, or of itself), or a `with`
    leaving the Session itself or `closing(name)`."""
    if isinstance(statement, _TRIES):
        return name in _finally_closes(statement.finalbody, flags)
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


def _finally_closes(statements: list[ast.stmt], flags: frozenset[str] = frozenset()) -> set[str]:
    """Names a `finally` block closes unconditionally, or under a test of that name only
    (`if s is not None: s.close()`, for a Session opened inside the `try`), or of a flag set
    where it was opened (`if own: s.close()`); and `name?flag` for a close under any other flag,
    which counts for an opening under `if flag:` inside the `try`."""
    closed: set[str] = set()
    for statement in statements:
        name = _close_of(statement)
        if name is not None:
            closed.add(name)
        elif isinstance(statement, ast.If) and not statement.orelse:
            tested = {n.id for n in ast.walk(statement.test) if isinstance(n, ast.Name)}
            for inner in statement.body:
                name = _close_of(inner)
                flagged = isinstance(statement.test, ast.Name) and statement.test.id in flags
                if name is not None and (tested == {name} or flagged):
                    closed.add(name)
                elif name is not None and isinstance(statement.test, ast.Name):
                    # closed under a flag: for an opening under a test of that same flag
                    closed.add(f"{name}?{statement.test.id}")
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
