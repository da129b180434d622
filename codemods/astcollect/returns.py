"""Each `return name` of a function's own body, and which other lines may run before it.

`check` asks whether a commit may run before the route returns an object (`return author` under
a response model reads what the commit expired): a return on a branch the commit's is not on (`if
author is None: return author` before `await db.commit()`; the `else` of the `if` committing) runs
with the object unexpired. A line may run before a return when it comes first in the source, or
anywhere when the return may run again after it (in a loop's body) or after code below it (in a
`try` whose `finally` follows); never in the other branch of an `if` holding the return, another
`case` of a `match`, or another `except` handler of a `try`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_TRIES = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)

# (line of the return, the name returned, whether it may run after any line, the line spans of
# the branches it excludes)
NameReturn = tuple[int, str, bool, tuple[tuple[int, int], ...]]


def name_returns(body: list[ast.stmt]) -> tuple[NameReturn, ...]:
    found: list[NameReturn] = []
    _block(body, False, (), found)
    return tuple(found)


def _span(statements: list[ast.stmt] | list[ast.ExceptHandler] | list[ast.match_case]) -> tuple[int, int] | None:
    if not statements:
        return None
    first, last = statements[0], statements[-1]
    if isinstance(first, ast.match_case):
        assert isinstance(last, ast.match_case)
        return first.pattern.lineno, last.body[-1].end_lineno or last.body[-1].lineno
    return first.lineno, last.end_lineno or last.lineno  # type: ignore[union-attr]


def _block(
    statements: list[ast.stmt], again: bool, excluded: tuple[tuple[int, int], ...], found: list[NameReturn]
) -> None:
    for statement in statements:
        _statement(statement, again, excluded, found)


def _statement(
    statement: ast.stmt, again: bool, excluded: tuple[tuple[int, int], ...], found: list[NameReturn]
) -> None:
    if isinstance(statement, _NESTED):
        return
    if isinstance(statement, ast.Return):
        if isinstance(statement.value, ast.Name):
            found.append((statement.lineno, statement.value.id, again, excluded))
        return
    if isinstance(statement, ast.If):
        for branch, other in ((statement.body, statement.orelse), (statement.orelse, statement.body)):
            span = _span(other)
            _block(branch, again, (*excluded, span) if span is not None else excluded, found)
        return
    if isinstance(statement, _LOOPS):
        _block(statement.body, True, excluded, found)
        _block(statement.orelse, again, excluded, found)
        return
    if isinstance(statement, _TRIES):
        # a `finally` runs after a return in the body or a handler: what it holds may come first
        later = again or bool(statement.finalbody)
        _block(statement.body, later, excluded, found)
        for handler in statement.handlers:
            others = [h for h in statement.handlers if h is not handler]
            spans = [s for s in (_span(h.body) for h in others) if s is not None]
            _block(handler.body, later, (*excluded, *spans), found)
        # the `else` runs only when no handler did
        handled = [s for s in (_span(h.body) for h in statement.handlers) if s is not None]
        _block(statement.orelse, later, (*excluded, *handled), found)
        _block(statement.finalbody, again, excluded, found)
        return
    if isinstance(statement, ast.Match):
        for case in statement.cases:
            spans = [s for s in (_span([c]) for c in statement.cases if c is not case) if s is not None]
            _block(case.body, again, (*excluded, *spans), found)
        return
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        _block(statement.body, again, excluded, found)


def exits(body: list[ast.stmt]) -> tuple[tuple[int, int], ...]:
    """The line spans of the statement lists that end the function: each ends in a `raise` no
    enclosing `try` may catch, or a `return` no enclosing `finally` follows, and holds no `break`
    or `continue`. Code from inside such a span never reaches a line below it."""
    found: list[tuple[int, int]] = []
    _exits(body, False, False, found)
    return tuple(found)


def _exits(statements: list[ast.stmt], caught: bool, finished: bool, found: list[tuple[int, int]]) -> None:
    if not statements:
        return
    last = statements[-1]
    leaves = (isinstance(last, ast.Raise) and not caught) or (isinstance(last, ast.Return) and not finished)
    if leaves and not any(isinstance(n, (ast.Break, ast.Continue)) for s in statements for n in _own_nodes(s)):
        span = _span(statements)
        if span is not None:
            found.append(span)
    for statement in statements:
        if isinstance(statement, _NESTED):
            continue
        if isinstance(statement, _TRIES):
            handles = bool(statement.handlers)
            final = finished or bool(statement.finalbody)
            _exits(statement.body, caught or handles or bool(statement.finalbody), final, found)
            for handler in statement.handlers:
                _exits(handler.body, caught or bool(statement.finalbody), final, found)
            _exits(statement.orelse, caught or bool(statement.finalbody), final, found)
            _exits(statement.finalbody, caught, finished, found)
        elif isinstance(statement, ast.Match):
            for case in statement.cases:
                _exits(case.body, caught, finished, found)
        else:
            # a context manager may swallow what its body raises (`with suppress(KeyError):`)
            held = caught or isinstance(statement, (ast.With, ast.AsyncWith))
            for name in ("body", "orelse"):
                inner = getattr(statement, name, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    _exits(inner, held, finished, found)


def _own_nodes(statement: ast.stmt) -> Iterator[ast.AST]:
    """The nodes of a statement, nested functions and classes left out."""
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, _NESTED))
