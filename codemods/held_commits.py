"""Commits a handler makes through project objects holding its Session.

`await repo.restock_all(10)` on a repository a dependency builds (`self.db.commit()` inside), or
leaving `async with uow:` whose `__aexit__` commits `self.session`, expires what the Session holds
as `await db.commit()` does; the handler names no Session there. `held_commits`: check's AM314
(`async_expired`), by the AsyncSession as the handler can spell it (`repo.db`); `commits_held`:
that walk for either kind of Session, phase two's expired reads too.
"""

from __future__ import annotations

from async_migrate.codemods.held_session import ASYNC, SYNC, held_attribute, held_attributes
from async_migrate.codemods.project import FunctionId, Project

# How many project calls deep a walk from a handler into what holds or is handed its Session
# goes: an instance's own methods (`self.save()` calling `self._flush()` calling
# `self.db.commit()`) and the helpers given the Session (`phase2.expired_helpers`). Deeper chains
# are not followed: no commit found there, no object shown to come back.
CALL_DEPTH = 6


def held_commits(project: Project, fid: FunctionId) -> dict[str, dict[int, str]]:
    """Commits of AsyncSessions a handler reaches only through project objects holding them, by
    the Session as the handler can spell it (`repo.db`, `uow.session`): the line each commits at
    and how. An awaited method of an instance (a dependency's, a parameter's, `self.repo`'s) whose
    class holds an AsyncSession in one attribute and commits it, itself or through its own methods
    (`await repo.restock_all(10)`), at the call; `async with uow:` whose `__aexit__` commits, at
    the block's last line."""
    _, function = project.functions[fid]
    ends = {(expression, start): end for expression, start, end in function.async_locked}
    found: dict[str, dict[int, str]] = {}
    for edge in project.all_calls_from.get(fid, ()):
        call, func = edge.call, edge.call.func or ""
        receiver, _, method = func[1:].rpartition(".")
        if call.nested or not func.startswith("$") or not receiver:
            continue
        attribute = held_attribute(project, edge.callee, ASYNC)
        if attribute is None or not commits_held(project, edge.callee, ASYNC, attribute):
            continue
        path = f"{receiver}.{attribute}"
        if call.index == -1 and method == "__aexit__" and (f"${receiver}", call.line) in ends:
            end = ends[(f"${receiver}", call.line)]
            found.setdefault(path, {})[end] = f"end of `async with {receiver}:` (line {call.line}), whose __aexit__ commits,"
        elif call.index != -1 and call.awaited:
            found.setdefault(path, {})[call.line] = f"`{receiver}.{method}()`, which commits `{path}`,"
    return found


def commits_held(
    project: Project, method: FunctionId, kind: str, attribute: str | None = None,
    seen: frozenset[FunctionId] = frozenset(),
) -> bool:
    """Whether a method commits the Session of `kind` its instance holds (`self.db.commit()`; an
    AsyncSession's awaited), itself or through other methods it calls on `self`, at most
    `CALL_DEPTH` deep. `attribute`: the one holding it, kept through every method; without it,
    each method's own `held_attributes` (a method of no holder commits none)."""
    _, function = project.functions[method]
    if method in seen or len(seen) > CALL_DEPTH or not function.params:
        return False
    attributes = (attribute,) if attribute is not None else held_attributes(project, method, kind)
    if not attributes:
        return False
    own = f"${function.params[0].name}."
    commits = {f"{own}{name}.commit" for name in attributes}
    if any(c.func in commits and (c.awaited or kind == SYNC) for c in function.calls):
        return True
    return any(
        (e.call.func or "").startswith(own) and commits_held(project, e.callee, kind, attribute, seen | {method})
        for e in project.all_calls_from.get(method, ())
    )
