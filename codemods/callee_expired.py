"""Reads after its own commit in a project coroutine an `async def` handler awaits (check's AM314).

`await repo.rename(id, name)` where `Repo.rename` loads `u = await self.db.get(User, id)`, commits
`self.db` and then reads `u.email` (or returns `u` to the route, whose response model reads it):
on a sessionmaker keeping `expire_on_commit=True` the read refreshes the row outside any greenlet
and raises MissingGreenlet. `async_expired.expired_reads` judges the handler's own body; here it
judges each project coroutine the handler awaits, however deep (`CALL_DEPTH`): a function handed
the AsyncSession (declared so, or receiving the handler's), a method of an instance holding it
(`self.db`: a dependency's repository, one built inline, `self.repo` of a service), on the Session
it works on, expiring as the handler's Sessions do (where they disagree or the analysis cannot
read them, as the method's own class says, else unverified, never cleared).
"""

from __future__ import annotations

from async_migrate.codemods import facts
from async_migrate.codemods.async_expired import (
    _expires_on_commit,
    _held_expires,
    _opened_expires,
    expired_reads,
)
from async_migrate.codemods.held_commits import CALL_DEPTH
from async_migrate.codemods.helper_expiries import received
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.project import FunctionId, Handler, Project


def callee_expired_reads(project: Project, handler: Handler, sessions: list[str]) -> list[Blocking]:
    """The first read after its own commit in each project coroutine the handler awaits, at the
    handler's call leading there: `u.email in app.repo.Repo.rename at app/repo.py:14 (expired by
    ...)`."""
    from async_migrate.codemods.async_response_reads import _returned_callees
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.phase2.expired_related import response_models

    function = handler.function
    given = _handler_expires(project, handler, sessions)
    returned = {callee for _, callee in _returned_callees(project, handler.id, function)}
    models = response_models(project_classes(project), function) if returned else []
    found: list[Blocking] = []
    seen = {handler.id}
    pending = [(edge.call.line, edge.callee, received_sessions(project, edge.callee, edge.call, sessions), 0)
               for edge in project.all_calls_from.get(handler.id, ()) if edge.call.awaited and not edge.call.nested]
    while pending:
        line, callee, handed, depth = pending.pop(0)
        if callee in seen:
            continue
        seen.add(callee)
        module, target = project.functions[callee]
        if not target.is_async or target.is_generator:
            continue
        own = list(dict.fromkeys([*project.declared_async_session_params(callee), *handed]))
        reads = expired_reads(project, callee, own, given, models if callee in returned else [])
        if reads:
            read, _, why = reads[0].call.partition(" (")
            where = f"{read} in {module.name}.{target.qualname} at {module.path}:{reads[0].line}"
            found.append(Blocking(line, f"{where} ({why}" if why else where))
        if depth < CALL_DEPTH:
            pending.extend(
                (line, edge.callee, received_sessions(project, edge.callee, edge.call, own), depth + 1)
                for edge in project.all_calls_from.get(callee, ()) if edge.call.awaited and not edge.call.nested
            )
    return found


def received_sessions(project: Project, callee: FunctionId, call: facts.Call, sessions: list[str]) -> list[str]:
    """The parameters of `callee` the call hands one of `sessions` to (typed or not)."""
    _, helper = project.functions[callee]
    found = [received(helper, call, session) for session in sessions]
    return [param for param in found if param is not None]


def _handler_expires(project: Project, handler: Handler, sessions: list[str]) -> bool | None:
    """Whether every AsyncSession the handler is given or opens (and every one an instance it is
    given holds: `repo: Repo = Depends(get_repo)`) expires on commit; None where they disagree or
    none is read."""
    function = handler.function
    params = {p.name: p for p in function.params}
    found: set[bool | None] = set()
    for name in sessions:
        param = params.get(name)
        found.add(_expires_on_commit(project, param) if param is not None else _opened_expires(project, function, name))
    for param in function.params:
        if param.name not in sessions and param.depends is not None:
            held = _held_expires(project, param)
            if held is not None:
                found.add(held)
    return found.pop() if len(found) == 1 else None
