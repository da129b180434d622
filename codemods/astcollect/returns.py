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
import bisect

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


def exits(body: list[ast.stmt], nodes: list[ast.AST]) -> tuple[tuple[int, int], ...]:
    """The line spans of the statement lists that end the function: each ends in a `raise` no
    enclosing `try` may catch, or a `return` no enclosing `finally` follows, and holds no `break`
    or `continue`. Code from inside such a span never reaches a line below it. `nodes`: the body's
    nodes outside nested scopes (`syntax.own_nodes`), or just its `break`s and `continue`s
    (`OwnNodes.jumps`)."""
    found: list[tuple[int, int]] = []
    # Where each `break` and `continue` of the own body is: a statement list holds one when one
    # lies within its span (no other statement list shares those positions), which spares walking
    # every nested list again.
    jumps = sorted((n.lineno, n.col_offset) for n in nodes if type(n) is ast.Break or type(n) is ast.Continue)
    _exits(body, False, False, found, jumps)
    return tuple(found)


def failed_into(nodes: list[ast.AST]) -> tuple[tuple[int, int, int], ...]:
    """Each `except` handler of a `try` among `nodes` (the body's nodes outside nested scopes,
    `syntax.own_nodes`, or its `OwnNodes.tries`): (the line the try's body's last statement
    starts on, the handler's first and last lines). The statement ending the body raised or never
    ran when the handler runs:
    `try: ...; await db.commit()` then `except IntegrityError:` runs after no commit."""
    found: list[tuple[int, int, int]] = []
    for node in nodes:
        if isinstance(node, _TRIES) and node.body:
            for handler in node.handlers:
                span = _span(handler.body)
                if span is not None:
                    found.append((node.body[-1].lineno, span[0], span[1]))
    return tuple(sorted(found))


def _holds_jump(statements: list[ast.stmt], jumps: list[tuple[int, int]]) -> bool:
    if not jumps:
        return False
    first, last = statements[0], statements[-1]
    start = (first.lineno, first.col_offset)
    end = (last.end_lineno or last.lineno, last.end_col_offset if last.end_col_offset is not None else 1 << 30)
    index = bisect.bisect_left(jumps, start)
    return index < len(jumps) and jumps[index] <= end


# Statement type -> which of `body` and `orelse` it has (none for a simple statement).
_BLOCKS: dict[type, tuple[str, ...]] = {}


def _exits(
    statements: list[ast.stmt], caught: bool, finished: bool, found: list[tuple[int, int]],
    jumps: list[tuple[int, int]],
) -> None:
    if not statements:
        return
    last = statements[-1]
    leaves = (isinstance(last, ast.Raise) and not caught) or (isinstance(last, ast.Return) and not finished)
    if leaves and not _holds_jump(statements, jumps):
        span = _span(statements)
        if span is not None:
            found.append(span)
    for statement in statements:
        if isinstance(statement, _NESTED):
            continue
        if isinstance(statement, _TRIES):
            handles = bool(statement.handlers)
            final = finished or bool(statement.finalbody)
            _exits(statement.body, caught or handles or bool(statement.finalbody), final, found, jumps)
            for handler in statement.handlers:
                _exits(handler.body, caught or bool(statement.finalbody), final, found, jumps)
            _exits(statement.orelse, caught or bool(statement.finalbody), final, found, jumps)
            _exits(statement.finalbody, caught, finished, found, jumps)
        elif isinstance(statement, ast.Match):
            for case in statement.cases:
                _exits(case.body, caught, finished, found, jumps)
        else:
            # a context manager may swallow what its body raises (`with suppress(KeyError):`)
            kind = type(statement)
            fields = _BLOCKS.get(kind)
            if fields is None:
                fields = _BLOCKS[kind] = tuple(name for name in ("body", "orelse") if name in kind._fields)
            if not fields:
                continue  # a simple statement: most of them
            held = caught or isinstance(statement, (ast.With, ast.AsyncWith))
            for name in fields:
                inner = getattr(statement, name, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    _exits(inner, held, finished, found, jumps)
