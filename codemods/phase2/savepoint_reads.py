"""Objects read after a savepoint (or a transaction block) rolled back: MissingGreenlet (AM292).

Rolling back `db.begin_nested()` expires the objects changed inside it, rolling back a
`db.begin()` block every object, whatever `expire_on_commit` says; under AsyncSession the next
read is implicit IO. `expired_reads` follows the Session's own `rollback()`; this module covers
the two rollbacks it does not see (`reads`), and a helper handing such an object back to its
caller (`expired_params`, `after_call`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
# Session methods handing back mapped objects (not `scalar`/`execute`, mostly numbers and rows).
_LOADS = frozenset({"get", "get_one", "merge", "scalars"})


def reads(definition: ast.FunctionDef | ast.AsyncFunctionDef | None, sessions: set[str]) -> list[tuple[int, str]]:
    """(line, message) per object read after a rollback that expired it, in one function.

    The rollbacks read:

    - the exception leaving `with db.begin_nested():` (or `with db.begin():`) inside a `try`,
      read in that `try`'s `except` handler, or after it when the handler carries on (also past a
      `continue`: the loop's next lines and what follows the loop);
    - `sp.rollback()` on `sp = db.begin_nested()` (or `db.begin()`), read after it.

    An object counts when the code changes one of its attributes inside the block (or between
    taking the savepoint and rolling it back): those are the ones a savepoint's rollback expires;
    for a `db.begin()` block, also one the block loads through the Session (`db.get(...)`,
    `db.scalars(...)`), since that rollback expires every object. A `db.refresh(obj)` before the
    read reloads it, and the read is fine.
    """
    if definition is None or not sessions:
        return []
    found: list[tuple[int, str]] = []
    seen: set[tuple[int, str]] = set()
    for block, holder, parents in _blocks(definition.body, ()):
        root = parents[0][0] if parents else holder
        found_here = _after_with(block, parents, sessions) + _after_rollback(block, holder, parents, root, sessions)
        for line, name, what in found_here:
            if (line, name) not in seen:
                seen.add((line, name))
                found.append((line, what))
    return found


Parents = tuple[tuple[Sequence[ast.stmt], ast.stmt], ...]


def expired_params(
    definition: ast.FunctionDef | ast.AsyncFunctionDef | None, sessions: set[str]
) -> dict[str, str]:
    """Parameters a caught rollback may leave expired when the function returns normally:
    name -> what rolled back, for a reason (`with db.begin_nested():` at line 14). A helper that
    changes an object it is given inside such a block and, the rollback caught, returns normally
    (`return False` in the handler) hands the object back expired."""
    if definition is None or not sessions:
        return {}
    arguments = definition.args.posonlyargs + definition.args.args + definition.args.kwonlyargs
    params = {a.arg for a in arguments} - sessions - {"self", "cls"}
    found: dict[str, str] = {}
    for block, holder, parents in _blocks(definition.body, ()):
        if isinstance(block, (ast.With, ast.AsyncWith)):
            opened = next((t for item in block.items if (t := _transaction(item.context_expr, sessions))), None)
            guard = next(
                (s for _, s in reversed(parents) if isinstance(s, ast.Try) and any(_within(block, b) for b in s.body)),
                None,
            )
            if opened is None or not isinstance(guard, ast.Try):
                continue
            for handler in guard.handlers:
                if handler.body and isinstance(handler.body[-1], ast.Raise):
                    continue  # raised again: the caller gets no object back
                refreshed = set().union(*(_refreshes(s, sessions) for s in handler.body))
                for name in sorted(_changed(block.body) & params - refreshed):
                    found.setdefault(name, f"`with {opened}:` at line {block.lineno}")
        elif isinstance(block, ast.Expr):
            call = block.value.value if isinstance(block.value, ast.Await) else block.value
            if not (
                isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "rollback"
                and isinstance(call.func.value, ast.Name) and call.func.value.id not in sessions
            ):
                continue
            rest = _following(holder, block)
            if rest and isinstance(rest[-1], ast.Raise):
                continue
            refreshed = set().union(*(_refreshes(s, sessions) for s in rest))
            root = parents[0][0] if parents else holder
            for start, _opened in _taken(root, call.func.value.id, block.lineno, sessions)[-1:]:
                for name in sorted(_changed(root, start, block.lineno) & params - refreshed):
                    found.setdefault(name, f"`{call.func.value.id}.rollback()` at line {block.lineno}")
    return found


def after_call(
    definition: ast.FunctionDef | ast.AsyncFunctionDef | None, line: int, passed: dict[str, str], callee: str,
    sessions: set[str],
) -> list[tuple[int, str]]:
    """Reads, after the call at `line`, of the names the caller passed to parameters the callee
    may hand back expired (`passed`: the caller's name -> the callee's rollback)."""
    if definition is None:
        return []
    later = [s for s in ast.walk(definition) if isinstance(s, ast.stmt) and s.lineno > line]
    refreshed: dict[str, int] = {}
    for statement in later:
        for name in _refreshes(statement, sessions):
            refreshed[name] = min(refreshed.get(name, statement.lineno), statement.lineno)
    found: list[tuple[int, str]] = []
    for name, rolled in sorted(passed.items()):
        reads = sorted(
            n.lineno for n in ast.walk(definition)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id == name and n.lineno > line
        )
        reads = [r for r in reads if r <= refreshed.get(name, r)]
        if reads and reads[0] != refreshed.get(name):
            session = sorted(sessions)[0]
            found.append((reads[0], (
                f"`{name}` is read (line {reads[0]}) after `{callee}(...)` (line {line}), which changes it "
                f"inside a savepoint or transaction block and, when that rolls back ({rolled} there), returns "
                f"it expired; the synchronous Session reloaded it on the read, under AsyncSession the read is "
                f"implicit IO and raises MissingGreenlet; fix: add `{session}.refresh({name})` after the call "
                f"(or in `{callee}` after the rollback), then rerun phase two"
            )))
    return found


def _taken(root: Sequence[ast.stmt], name: str, before: int, sessions: set[str]) -> list[tuple[int, str]]:
    """Where `name` is bound to a savepoint or transaction of the Session, before line `before`."""
    return sorted(
        (node.lineno, opened)
        for statement in root for node in ast.walk(statement)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == name and node.lineno < before
        and (opened := _transaction(node.value.value if isinstance(node.value, ast.Await) else node.value, sessions))
    )


def _blocks(body: Sequence[ast.stmt], parents: Parents) -> Iterator[tuple[ast.stmt, Sequence[ast.stmt], Parents]]:
    """Every statement of the function (not of nested functions), with the statement list
    holding it and the chain of statements around it (each with its own list), innermost last."""
    for statement in body:
        yield statement, body, parents
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for inner in _bodies(statement):
            yield from _blocks(inner, (*parents, (body, statement)))


def _transaction(expr: ast.expr, sessions: set[str]) -> str | None:
    """`db.begin_nested()` or `db.begin()` on a Session: its text."""
    if (
        isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in ("begin_nested", "begin") and isinstance(expr.func.value, ast.Name)
        and expr.func.value.id in sessions
    ):
        return f"{expr.func.value.id}.{expr.func.attr}()"
    return None


def _changed(statements: Sequence[ast.AST], start: int = 0, end: int | None = None) -> set[str]:
    """Names whose attributes are assigned in `statements` (between those lines)."""
    names: set[str] = set()
    for statement in statements:
        for node in ast.walk(statement):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            line = getattr(node, "lineno", 0)
            if line < start or end is not None and line > end:
                continue
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and isinstance(part.ctx, ast.Store):
                        names.add(part.value.id)
    return names


def _first_read(statements: Reach, names: set[str], sessions: set[str]) -> list[tuple[int, str]]:
    """The first read of each name in `statements`, in order, unless a `refresh` of it comes first."""
    found: list[tuple[int, str]] = []
    done: set[str] = set()
    for statement, fresh in statements:
        refreshed = _refreshes(statement, sessions)
        nodes = sorted(
            (n for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)),
            key=lambda n: (n.lineno, n.col_offset),
        )
        for node in nodes:
            if node.id in names and node.id not in done and node.id not in refreshed and node.id not in fresh:
                done.add(node.id)
                found.append((node.lineno, node.id))
        done |= refreshed
    return found


def _refreshes(statement: ast.stmt, sessions: set[str]) -> set[str]:
    """Names a statement refreshes through the Session: `db.refresh(obj)`, awaited or not."""
    names: set[str] = set()
    for node in ast.walk(statement):
        if (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "refresh"
            and isinstance(node.func.value, ast.Name) and node.func.value.id in sessions
            and node.args and isinstance(node.args[0], ast.Name)
        ):
            names.add(node.args[0].id)
    return names


Reach = list[tuple[ast.stmt, frozenset[str]]]


def _next(rest: Sequence[ast.stmt], ancestors: Parents) -> Reach:
    """What may run after the statements `rest`, the end of a statement list inside the
    compound statements `ancestors`: what follows them outward, a loop's body again for its
    next iteration, nothing after a `return` or `raise`. Each statement comes with the names it
    does not read as they were: a loop's body run again has its own `for` target, and what it
    binds itself, afresh (`for item in items:` changing each in its own savepoint)."""
    last = rest[-1] if rest else None
    if isinstance(last, (ast.Return, ast.Raise)):
        return []
    if isinstance(last, (ast.Continue, ast.Break)):
        for index in range(len(ancestors) - 1, -1, -1):
            holder, loop = ancestors[index]
            if isinstance(loop, _LOOPS):
                after = _following(holder, loop)
                again = _again(loop) if isinstance(last, ast.Continue) else []
                return again + _plain(after) + _next(after, ancestors[:index])
        return []
    if not ancestors:
        return []
    holder, around = ancestors[-1]
    after = _following(holder, around)
    again = _again(around) if isinstance(around, _LOOPS) else []
    return again + _plain(after) + _next(after, ancestors[:-1])


def _plain(statements: Sequence[ast.stmt]) -> Reach:
    return [(statement, frozenset()) for statement in statements]


def _again(loop: ast.stmt) -> Reach:
    assert isinstance(loop, _LOOPS)
    fresh = {
        node.id for part in [getattr(loop, "target", None), *loop.body] if part is not None
        for node in ast.walk(part) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    return [(statement, frozenset(fresh)) for statement in loop.body]


def _following(holder: Sequence[ast.stmt], statement: ast.stmt) -> list[ast.stmt]:
    index = next(i for i, s in enumerate(holder) if s is statement)
    return list(holder[index + 1:])


def _after_with(block: ast.stmt, parents: Parents, sessions: set[str]) -> list[tuple[int, str, str]]:
    if not isinstance(block, (ast.With, ast.AsyncWith)):
        return []
    opened = next((t for item in block.items if (t := _transaction(item.context_expr, sessions))), None)
    if opened is None:
        return []
    changed = _changed(block.body) - sessions
    loaded = set() if opened.endswith("begin_nested()") else _loaded(block.body, sessions) - changed
    changed |= loaded
    # The innermost `try` whose body holds the block catches what leaves it.
    guard = next(
        (
            index for index in range(len(parents) - 1, -1, -1)
            if isinstance(attempt := parents[index][1], ast.Try) and any(_within(block, s) for s in attempt.body)
        ),
        None,
    )
    if guard is None or not changed:
        return []
    attempt = parents[guard][1]
    assert isinstance(attempt, ast.Try)
    found: list[tuple[int, str, str]] = []
    for handler in attempt.handlers:
        statements = _plain(handler.body) + _next(handler.body, parents[: guard + 1])
        for line, name in _first_read(statements, changed, sessions):
            found.append((line, name, _message(
                name, line, block.lineno, opened, how="with", at=handler.lineno, loaded=name in loaded
            )))
    return found


def _within(inner: ast.AST, outer: ast.AST) -> bool:
    return any(node is inner for node in ast.walk(outer))


def _after_rollback(
    block: ast.stmt, holder: Sequence[ast.stmt], parents: Parents, root: Sequence[ast.stmt], sessions: set[str]
) -> list[tuple[int, str, str]]:
    """`sp.rollback()` as a statement, `sp` bound to a savepoint or transaction of the Session."""
    if not isinstance(block, ast.Expr):
        return []
    call = block.value.value if isinstance(block.value, ast.Await) else block.value
    if not (
        isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "rollback"
        and isinstance(call.func.value, ast.Name) and call.func.value.id not in sessions
    ):
        return []
    name = call.func.value.id
    taken = _taken(root, name, block.lineno, sessions)
    if not taken:
        return []
    start, opened = taken[-1]
    changed = _changed(root, start, block.lineno) - sessions - {name}
    if not changed:
        return []
    rest = _following(holder, block)
    statements = _plain(rest) + _next(rest, parents)
    return [
        (line, read, _message(read, line, start, opened, how=name, at=block.lineno))
        for line, read in _first_read(statements, changed, sessions)
    ]


def _bodies(statement: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists a compound statement holds, its handlers' and cases' included."""
    bodies: list[list[ast.stmt]] = [
        inner for f in ("body", "orelse", "finalbody")
        if isinstance(inner := getattr(statement, f, None), list) and inner and isinstance(inner[0], ast.stmt)
    ]
    bodies += [h.body for h in getattr(statement, "handlers", []) or []]
    bodies += [c.body for c in getattr(statement, "cases", []) or []]
    return bodies


def _loaded(statements: Sequence[ast.stmt], sessions: set[str]) -> set[str]:
    """Names a block binds to objects the Session loads (`account = db.get(Account, 1)`,
    `db.scalars(q).one()`, `db.merge(obj)`): a rollback of the whole transaction expires them
    even unchanged."""
    names: set[str] = set()
    for statement in statements:
        for node in ast.walk(statement):
            if not isinstance(node, ast.Assign) or not all(isinstance(t, ast.Name) for t in node.targets):
                continue
            if any(
                isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _LOADS
                and isinstance(call.func.value, ast.Name) and call.func.value.id in sessions
                for call in ast.walk(node.value)
            ):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _message(name: str, line: int, opened_at: int, opened: str, how: str, at: int, loaded: bool = False) -> str:
    session = opened.partition(".")[0]
    nested = opened.endswith("begin_nested()")
    what = "savepoint" if nested else "transaction"
    expires = "the objects changed inside it" if nested else "every object"
    if how == "with":
        when = (
            f"the exception leaving `with {opened}:` (line {opened_at}) rolls the {what} back, "
            f"which expires {expires}, `{name}` included (it is {'loaded' if loaded else 'changed'} inside)"
        )
        where = f"at the start of the handler (line {at})"
    else:
        when = (
            f"`{how}.rollback()` (line {at}) rolls back the {what} `{how} = {opened}` (line {opened_at}), "
            f"which expires {expires}, `{name}` included (it is changed after it)"
        )
        where = f"right after `{how}.rollback()`"
    return (
        f"`{name}` is read (line {line}) after a rollback: {when}; the synchronous Session reloaded it "
        f"there, under AsyncSession the read is implicit IO and raises MissingGreenlet; fix: add "
        f"`{session}.refresh({name})` {where} (or load it again), then rerun phase two"
    )
