"""Synchronous Session code a project coroutine the handler awaits hands its AsyncSession (check's AM302).

`async def get_multi_async(self, db: AsyncSession, ...)` calling `self.get(db, id=0)`, where the
plain `def get(self, db: Session, id)` runs `db.query(...)`: there the Session calls are not
awaited (`query()` raises AttributeError), as in a route handing the AsyncSession to it directly
(`check.async_session_handoffs`). Followed down the awaited calls, however deep (`CALL_DEPTH`),
parameter by parameter as `callee_expired` follows the Session: each coroutine's parameters the
handler's AsyncSession reaches, or declared an AsyncSession. Reported at the handler's call
leading there: `app.crud.base.CRUDBase.get(...) in app.crud.base.CRUDBase.get_multi_async at
app/crud/base.py:31`.
"""

from __future__ import annotations

from async_migrate.codemods.callee_expired import received_sessions
from async_migrate.codemods.held_commits import CALL_DEPTH
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.project import FunctionId, Handler, Project


def reached_session_handoffs(project: Project, handler: Handler, sessions: list[str]) -> list[Blocking]:
    """The first synchronous Session helper each project coroutine the handler awaits hands the
    AsyncSession to, at the handler's call leading there."""
    found: list[Blocking] = []
    seen = {handler.id}

    def calls(fid: FunctionId, names: list[str], line: int | None, depth: int) -> list[tuple]:
        return [
            (edge.call.line if line is None else line, edge.callee, received_sessions(project, edge.callee, edge.call, names), depth)
            for edge in project.all_calls_from.get(fid, ()) if edge.call.awaited and not edge.call.nested
        ]

    pending = calls(handler.id, sessions, None, 0)
    while pending:
        line, callee, handed, depth = pending.pop(0)
        if callee in seen:
            continue
        seen.add(callee)
        module, target = project.functions[callee]
        if not target.is_async or target.is_generator:
            continue
        own = list(dict.fromkeys([*project.declared_async_session_params(callee), *handed]))
        if not own:
            continue
        handoff = _first_handoff(project, callee, set(own))
        if handoff is not None:
            found.append(Blocking(line, f"{handoff.call} in {module.name}.{target.qualname} at {module.path}:{handoff.line}"))
        elif depth < CALL_DEPTH:
            pending.extend(calls(callee, own, line, depth + 1))
    return found


def _first_handoff(project: Project, fid: FunctionId, names: set[str]) -> Blocking | None:
    """The first call of `fid` handing one of `names` to a plain `def` doing Session work with it."""
    from async_migrate.codemods.check import _sync_handoff

    _, function = project.functions[fid]
    for call in sorted(function.calls, key=lambda c: (c.line, c.index)):
        if call.awaited or call.greenlet or call.nested or not any(arg.name in names for arg in call.args):
            continue
        target = project.function(call.callee) if call.callee is not None else None
        callees = [(target[0].name, target[1].key)] if target is not None else [
            e.callee for e in project.all_calls_from.get(fid, ()) if e.call is call
        ]
        for callee in callees:
            handoff = _sync_handoff(project, call, callee, names, {})
            if handoff is not None:
                return handoff
    return None
