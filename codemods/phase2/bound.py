"""Whether a local name is bound on every path to a statement, read on `ast`.

A statement phase two adds after another (`await db.refresh(obj)` after a commit) reads the
name there on every path, where the code it migrates may have read it on some paths only:

    if create:
        acct = Acct(name=name)
        db.add(acct)
    db.commit()              # await db.refresh(acct) here raises UnboundLocalError
    if create:
        return acct.balance

Conservative: a loop's body may not run, an `except` or `finally` may follow a failure
anywhere in the `try`, a `match` is not read; a branch that cannot complete (`return`,
`raise`, `continue`, `break`) binds every name.

`raised_after` answers the converse question for a refresh after a rollback: whether a
`raise` right after the statement leaves the function, so that nothing read later runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
_COMPOUND = (
    ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try, ast.TryStar, ast.Match,
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
)


def bound_after(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str, line: int, whole_with: bool = False) -> bool:
    """Whether `name` is bound on every path that completes the innermost statement holding
    `line` in the function `node` (a parameter counts as bound). `whole_with`: the statement
    is the `with` whose header is on `line`, not one in its body."""
    params = node.args
    if name in {a.arg for a in (*params.posonlyargs, *params.args, *params.kwonlyargs)} or name in {
        a.arg for a in (params.vararg, params.kwarg) if a is not None
    }:
        return True
    return bool(_after(node.body, name, line, whole_with, False))


def raised_after(node: ast.FunctionDef | ast.AsyncFunctionDef, line: int) -> int | None:
    """The last line of a `raise` that follows the simple statement on `line` in its own
    block, past simple statements only, and leaves the function: nothing after it runs
    (`except StaleDataError: db.rollback(); raise HTTPException(409)`), so no read of an object
    the statement expired is reached there. None when there is none, or when a `try` around
    it with a `finally`, or with handlers around its body, or a `with` (`suppress(...)`), may
    run more code."""
    around: list[tuple[ast.stmt, list[ast.stmt]]] = []  # enclosing statements, each with the block holding the line
    body = node.body
    while True:
        statement = next((s for s in body if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
        if statement is None:
            return None
        inner = next(
            (b for b, _ in _blocks(statement, "") if b and b[0].lineno <= line <= (b[-1].end_lineno or b[-1].lineno)),
            None,
        )
        if inner is None:
            break
        around.append((statement, inner))
        body = inner
    if isinstance(statement, _COMPOUND):
        return None
    leaving: ast.stmt | None = None
    for following in body[body.index(statement) + 1:]:
        if isinstance(following, ast.Raise):
            leaving = following
            break
        if isinstance(following, (*_COMPOUND, *_EXITS)):
            return None
    if leaving is None:
        return None
    for outer, block in around:
        if isinstance(outer, (ast.Try, ast.TryStar)) and (outer.finalbody or (block is outer.body and outer.handlers)):
            return None
        if isinstance(outer, (ast.With, ast.AsyncWith)):
            return None
    return leaving.end_lineno or leaving.lineno


def _after(body: list[ast.stmt], name: str, line: int, whole_with: bool, bound: bool) -> bool | None:
    for statement in body:
        if statement.lineno <= line <= (statement.end_lineno or statement.lineno):
            header = whole_with and isinstance(statement, (ast.With, ast.AsyncWith)) and statement.lineno == line
            if not header:
                for block, binds in _blocks(statement, name):
                    if block and block[0].lineno <= line <= (block[-1].end_lineno or block[-1].lineno):
                        inner = _after(block, name, line, whole_with, bound or binds)
                        if inner is not None:
                            return inner
            return bound or binds_name(statement, name)
        bound = bound or binds_name(statement, name)
    return None


def _blocks(statement: ast.stmt, name: str) -> Iterator[tuple[list[ast.stmt], bool]]:
    """The statement's blocks, each with whether entering it binds `name` (a loop or `with`
    target, an `except ... as` name); what ran before the statement is the caller's."""
    if isinstance(statement, (ast.For, ast.AsyncFor)):
        yield statement.body, _targets(statement.target, name)
        yield statement.orelse, False
    elif isinstance(statement, (ast.If, ast.While)):
        yield statement.body, False
        yield statement.orelse, False
    elif isinstance(statement, (ast.With, ast.AsyncWith)):
        yield statement.body, any(i.optional_vars is not None and _targets(i.optional_vars, name) for i in statement.items)
    elif isinstance(statement, (ast.Try, ast.TryStar)):
        yield statement.body, False
        for handler in statement.handlers:
            yield handler.body, handler.name == name
        yield statement.orelse, False
        yield statement.finalbody, False
    elif isinstance(statement, ast.Match):
        for case in statement.cases:
            yield case.body, False


def binds_name(statement: ast.stmt, name: str) -> bool:
    """Whether every way `statement` completes normally leaves `name` bound (vacuously, for
    one that never completes)."""
    if isinstance(statement, _EXITS):
        return True
    if isinstance(statement, ast.Assign):
        return any(_targets(t, name) for t in statement.targets)
    if isinstance(statement, ast.AnnAssign):
        return statement.value is not None and _targets(statement.target, name)
    if isinstance(statement, ast.AugAssign):
        return _targets(statement.target, name)
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return any((a.asname or a.name.partition(".")[0]) == name for a in statement.names)
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return statement.name == name
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return any(
            i.optional_vars is not None and _targets(i.optional_vars, name) for i in statement.items
        ) or _sequence(statement.body, name)
    if isinstance(statement, ast.If):
        return _sequence(statement.body, name) and _sequence(statement.orelse, name)
    if isinstance(statement, (ast.Try, ast.TryStar)):
        completes = _sequence(statement.body + statement.orelse, name) and all(
            _sequence(h.body, name) for h in statement.handlers
        )
        return completes or _sequence(statement.finalbody, name)
    return False


def _sequence(body: list[ast.stmt], name: str) -> bool:
    return any(binds_name(statement, name) for statement in body)


def _targets(target: ast.expr, name: str) -> bool:
    if isinstance(target, ast.Name):
        return target.id == name
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_targets(element, name) for element in target.elts)
    if isinstance(target, ast.Starred):
        return _targets(target.value, name)
    return False
