"""Reads after its own commit in a project coroutine an `async def` handler awaits (check's AM314).

`await repo.rename(id, name)` where `Repo.rename` loads `u = await self.db.get(User, id)`, commits
`self.db` and then reads `u.email` (or returns `u` to the route, whose response model reads it):
on a sessionmaker keeping `expire_on_commit=True` the read refreshes the row outside any greenlet
and raises MissingGreenlet. `async_expired.expired_reads` judges the handler's own body; here it
judges each project coroutine the handler awaits, however deep (`CALL_DEPTH`): a function handed
the AsyncSession (declared so, or receiving the handler's), a method of an instance holding it
(`self.db`: a dependency's repository, one built inline, `self.repo` of a service), on the Session
it works on. That Session expires as the handler's do where it is handed one, parameter by
parameter down the calls; as its sessionmaker says where it is entered through a project context
manager (`async with get_db_context(db) as db:`, yielding the Session it is handed or one it opens
from `SessionLocal()`); where neither is read, as the function's own reading says, else the read is
unverified, never cleared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from async_migrate.codemods import facts
from async_migrate.codemods.async_expired import (
    _expires_on_commit,
    _held_expires,
    _opened_expires,
    binding_expires,
    expired_reads,
)
from async_migrate.codemods.held_commits import CALL_DEPTH, held_commits
from async_migrate.codemods.helper_expiries import received
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.project import FunctionId, Handler, Project

# What a name may hold, by whether each Session it may be expires on commit (None: not known);
# empty where it holds no Session (`db=None` not passed).
Options = frozenset[bool | None]
_UNKNOWN: Options = frozenset({None})
S = TypeVar("S")


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
    outer: dict[str, Options] = {name: frozenset({given}) for name in sessions}
    for name in dict.fromkeys(b.name for b in function.bindings if b.entered and b.asynchronous):
        outer.setdefault(name, _entered(project, handler.id, name, outer, 0))

    def visit(
        line: int, callee: FunctionId, module: facts.Module, target: facts.Function, own: list[str],
        scope: dict[str, Options],
    ) -> tuple[list[str], dict[str, Options]]:
        scope = dict(scope)
        # `async with get_db_context(db) as session:` (or `as db`, the parameter's own name)
        for name in dict.fromkeys(b.name for b in target.bindings if b.entered and b.asynchronous):
            scope[name] = _entered(project, callee, name, scope, 0)
            if name not in own and _UNKNOWN.isdisjoint(scope[name]) and scope[name]:
                own.append(name)
        known = {}
        for session in [*own, *held_commits(project, callee)]:
            options = scope.get(session, _UNKNOWN) if "." not in session else frozenset({given})
            if len(options) == 1 and (one := next(iter(options))) is not None:
                known[session] = one
        reads = expired_reads(project, callee, own, known, models if callee in returned else [])
        if reads:
            read, _, why = reads[0].call.partition(" (")
            where = f"{read} in {module.name}.{target.qualname} at {module.path}:{reads[0].line}"
            found.append(Blocking(line, f"{where} ({why}" if why else where))
        return own, scope

    follow_awaited(
        project, handler.id, sessions, outer, lambda callee, call, scope: _passed(project, callee, call, scope), visit
    )
    return found


def follow_awaited(
    project: Project,
    root: FunctionId,
    sessions: list[str],
    state: S,
    carry: Callable[[FunctionId, facts.Call, S], S],
    visit: Callable[[int, FunctionId, facts.Module, facts.Function, list[str], S], tuple[list[str], S] | None],
) -> None:
    """Each project coroutine `root` awaits, however deep (`CALL_DEPTH`), once, breadth first,
    the AsyncSession followed parameter by parameter: `visit(line, callee, module, function, own,
    state)`, `line` the root's call leading there and `own` the callee's parameters declared
    an AsyncSession or handed one of its caller's `sessions`; it returns the names and the state to
    follow into the callee's awaited calls, or None to go no deeper there. `state` is the root's;
    `carry(callee, call, state)` what a call hands its callee of its caller's."""
    seen = {root}

    def calls(fid: FunctionId, names: list[str], line: int | None, state: S, depth: int) -> list[tuple]:
        return [
            (edge.call.line if line is None else line, edge.callee, received_sessions(project, edge.callee, edge.call, names),
             carry(edge.callee, edge.call, state), depth)
            for edge in project.all_calls_from.get(fid, ()) if edge.call.awaited and not edge.call.nested
        ]

    pending = calls(root, sessions, None, state, 0)
    while pending:
        line, callee, handed, state, depth = pending.pop(0)
        if callee in seen:
            continue
        seen.add(callee)
        module, target = project.functions[callee]
        if not target.is_async or target.is_generator:
            continue
        own = list(dict.fromkeys([*project.declared_async_session_params(callee), *handed]))
        going = visit(line, callee, module, target, own, state)
        if going is not None and depth < CALL_DEPTH:
            names, state = going
            pending.extend(calls(callee, names, line, state, depth + 1))


def received_sessions(project: Project, callee: FunctionId, call: facts.Call, sessions: list[str]) -> list[str]:
    """The parameters of `callee` the call hands one of `sessions` to (typed or not)."""
    _, helper = project.functions[callee]
    found = [received(helper, call, session) for session in sessions]
    return [param for param in found if param is not None]


def _passed(project: Project, callee: FunctionId, call: facts.Call | None, scope: dict[str, Options]) -> dict[str, Options]:
    """What each parameter of `callee` may hold, the call handing it the caller's names (`scope`):
    nothing for one left to a default that is plain data (`db=None`) or handed `None`."""
    _, helper = project.functions[callee]
    found = {p.name: frozenset() if p.plain_default else _UNKNOWN for p in helper.params if not p.variadic}
    for arg in call.args if call is not None else ():
        param = facts.parameter_of(helper, arg)
        if param is not None:
            found[param] = scope.get(arg.name or "", frozenset() if arg.name == "None" else _UNKNOWN)
    return found


def _entered(project: Project, fid: FunctionId, name: str, scope: dict[str, Options], depth: int) -> Options:
    """What the AsyncSession `fid` enters as `name` may expire as: as the sessionmaker opening it
    says (`async with maker() as name`), or as what the project context manager entered yields
    (`@asynccontextmanager def get_db_context(db=None)`: the Session it opens, and the one it is
    handed back, as `fid`'s names it hands it may, `scope`)."""
    _, function = project.functions[fid]
    bound = [b for b in function.bindings if b.name == name]
    if depth > CALL_DEPTH or not bound or not all(b.entered and b.asynchronous for b in bound):
        return _UNKNOWN
    found: set[bool | None] = set()
    for binding in bound:  # `async with get_db() as session:` in two places
        found |= _binding_options(project, function, binding, scope, depth)
    return frozenset(found) if found else _UNKNOWN


def _binding_options(
    project: Project, function: facts.Function, binding: facts.Binding, scope: dict[str, Options], depth: int
) -> Options:
    """`_entered` of one `async with ... as name`."""
    own = binding_expires(project, function, binding)
    if own is not None:
        return frozenset({own})
    expression = binding.expr
    target = project.function(expression[:-2]) if expression.endswith("()") else None
    if target is None:
        return _UNKNOWN
    module, manager = target
    manager_id = (module.name, manager.key)
    entering = next((c for c in function.calls if c.line == binding.line and c.callee and project.function(c.callee) == target), None)
    inner = _passed(project, manager_id, entering, scope)
    # `yield UnitOfWork(s)`, `yield from ...`: what it gives is not read here
    other = [e for e in manager.yielded if e.removeprefix("$") not in manager.yields]
    found: set[bool | None] = {None} if other or manager.yielded_from else set()
    for yielded in manager.yields:
        if any(p.name == yielded for p in manager.params):
            found |= inner.get(yielded, _UNKNOWN)  # handed back what it is handed
        else:
            found |= _entered(project, manager_id, yielded, inner, depth + 1)
    return frozenset(found) if found else _UNKNOWN


def _handler_expires(project: Project, handler: Handler, sessions: list[str]) -> bool | None:
    """Whether every AsyncSession the handler is given or opens (with none, every one an instance
    it is given holds: `repo: Repo = Depends(get_repo)`) expires on commit; None where they
    disagree or none is read."""
    function = handler.function
    params = {p.name: p for p in function.params}
    found: set[bool | None] = set()
    for name in sessions:
        param = params.get(name)
        found.add(_expires_on_commit(project, param) if param is not None else _opened_expires(project, function, name))
    for param in function.params if not found else ():  # `user = Depends(current_user)` says nothing then
        if param.name not in sessions and param.depends is not None:
            held = _held_expires(project, param)
            if held is not None:
                found.add(held)
    return found.pop() if len(found) == 1 else None
