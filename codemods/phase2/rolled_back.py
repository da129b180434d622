"""Objects a rollback leaves outside the Session, which no refresh may follow.

A rollback expunges what the transaction it ends took (pending, or flushed in it): the object is
transient again, and `refresh(obj)` after the rollback raises InvalidRequestError ('not persistent
within this Session'), so `except IntegrityError: db.rollback(); raise HTTPException(409)` answered
500. An object a commit completed before the rollback is persistent, and expired by it.
"""

from __future__ import annotations

import ast
from collections.abc import Collection

from async_migrate.codemods import facts
from async_migrate.codemods.phase2 import expired_reads


def pending(
    function: facts.Function,
    node: ast.FunctionDef | ast.AsyncFunctionDef | None,
    name: str,
    source: facts.Binding | None,
    line: int,
    sessions: Collection[str],
) -> bool:
    """Whether the object `name` holds (bound by `source`) may be pending when the rollback on
    `line` runs: the function gives it to the Session (`add`, `add_all`, on some path or every)
    with no commit between that and the rollback which completed on the rollback's path (a
    commit ending the body of a `try` whose handler holds the rollback is the one that failed)."""
    if not expired_reads.added_before(function, name, source, line, sessions, node):
        return False
    start = source.line if source is not None else 0
    for call in function.calls:
        if call.nested or not start < call.line < line or not _commits(call, sessions):
            continue
        if not expired_reads.added_before(function, name, source, call.line, sessions, node):
            continue  # added after this commit
        if node is not None and _failed(node, call.line, line):
            continue
        return False
    return True


def _commits(call: facts.Call, sessions: Collection[str]) -> bool:
    if call.receiver in sessions and call.method == "commit":
        return True
    receiver, _, method = (call.func or "").rpartition(".")
    return method == "commit" and receiver.startswith("$") and receiver[1:] in sessions


def _failed(node: ast.FunctionDef | ast.AsyncFunctionDef, commit: int, rollback: int) -> bool:
    """Whether the rollback runs only where the commit raised: the commit the last statement of a
    `try`'s body, the rollback in one of its handlers (with statements after the commit, it may
    have completed before the handler runs)."""
    for statement in ast.walk(node):
        if not isinstance(statement, (ast.Try, ast.TryStar)) or not statement.body:
            continue
        last = statement.body[-1]
        if not last.lineno <= commit <= (last.end_lineno or last.lineno):
            continue
        if any(h.lineno <= rollback <= (h.end_lineno or h.lineno) for h in statement.handlers):
            return True
    return False
