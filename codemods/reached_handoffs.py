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

from async_migrate.codemods import facts
from async_migrate.codemods.callee_expired import follow_awaited
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.project import FunctionId, Handler, Project


def reached_session_handoffs(project: Project, handler: Handler, sessions: list[str]) -> list[Blocking]:
    """The first synchronous Session helper each project coroutine the handler awaits hands the
    AsyncSession to, at the handler's call leading there."""
    found: list[Blocking] = []

    def visit(
        line: int, callee: FunctionId, module: facts.Module, target: facts.Function, own: list[str], state: None
    ) -> tuple[list[str], None] | None:
        if not own:
            return None
        handoff = _first_handoff(project, callee, set(own))
        if handoff is not None:
            found.append(Blocking(line, f"{handoff.call} in {module.name}.{target.qualname} at {module.path}:{handoff.line}"))
            return None
        return own, None

    follow_awaited(project, handler.id, sessions, None, lambda callee, call, state: None, visit)
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
