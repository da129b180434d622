"""AsyncSession coroutine methods called without `await` (check's AM311).

Code moved to AsyncSession by hand keeps a call written for the synchronous Session:

    async def create_user(session: AsyncSession = Depends(get_async_db)):
        session.add(user)
        session.commit()          # a coroutine nobody runs: nothing is written, and a 200

`unawaited_session_calls` finds such calls (`AWAITED_METHODS` on a parameter declared to receive
an AsyncSession, or on the `self.` attribute a method's class keeps it in from its `__init__`) in a
handler and in the project functions it calls, however deep. A call held
and run later (`c = s.commit(); await c`), handed to another call (`wait_for(s.commit(), 5)`),
offloaded, or in a nested function or lambda is not one: what runs it is elsewhere. A local
name holding the method to call later (`finish = session.commit`, `functools.partial(session.commit)`,
`lambda: session.commit()`, a loop over `[session.flush, session.commit]`) called without
`await` is one too. Handed to
a builtin that never runs it (`print(session.commit())`, `bool(...)`), it is one.
"""

from __future__ import annotations

from async_migrate.codemods import facts
from async_migrate.codemods.outcome import Blocking
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.python import NEVER_RUN
from async_migrate.codemods.vocabulary.sqlalchemy import AWAITED_METHODS


def unawaited_session_calls(project: Project, fid: FunctionId) -> list[tuple[Blocking, str]]:
    """Each unawaited AsyncSession coroutine call the function `fid` or its project callees make,
    with where it is as shown: `line 12 (db.commit())` for its own, `crud/users.py:8
    (db.commit() in crud.users.create)` for a callee's."""
    found: list[tuple[Blocking, str]] = []
    seen: set[FunctionId] = set()
    pending = [fid]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        module, function = project.functions[current]
        names = set(project.declared_async_session_params(current))
        held = _held_async_sessions(project, module, function)
        later = _deferred(function, names, held) if names or held else {}
        for call in function.calls if names or held else ():
            if call.receiver in names and call.method in AWAITED_METHODS:
                text = f"{call.receiver}.{call.method}()"
            elif call.func is not None and call.func.rpartition(".")[::2] in held:
                text = f"{call.func.removeprefix('$')}()"
            elif call.receiver is None and call.func is not None and call.func[1:] in later:
                text = f"{call.func[1:]}(), which runs {later[call.func[1:]]}"
            else:
                continue
            if call.awaited or call.nested or call.offloaded or call.consumed or call.greenlet:
                continue
            # handed to a call, which may run it; a builtin that takes it as any object never does
            if call.argument_of is not None and not never_runs(project, function, call.argument_of):
                continue
            if call.held_in is not None or call.within:
                continue
            shown = (
                f"line {call.line} ({text})" if current == fid
                else f"{module.path}:{call.line} ({text} in {module.name}.{function.qualname})"
            )
            found.append((Blocking(call.line, text), shown))
        if function.is_async and names:
            found.extend(_plain_wrappers(project, current, names))
        pending.extend(sorted(edge.callee for edge in project.all_calls_from.get(current, ())))
    return found


def _deferred(function: facts.Function, names: set[str], held: set[tuple[str, str]]) -> dict[str, str]:
    """Local name -> the AsyncSession coroutine method it holds to call later, as written
    (`finish = db.commit`, `partial(db.commit)`, `lambda: db.commit()`, a loop over `[db.flush, db.commit]`)."""
    found: dict[str, str] = {}
    for name, receiver, method in function.deferred:
        if method in AWAITED_METHODS and (receiver[1:] in names or (receiver, method) in held):
            found.setdefault(name, f"{receiver[1:]}.{method}()")
    return found


def _plain_wrappers(project: Project, fid: FunctionId, names: set[str]) -> list[tuple[Blocking, str]]:
    """An `async def` under a project decorator whose plain wrapper hands its AsyncSession parameter
    in and calls a coroutine method of it without `await` (`@transactional` committing `db` after
    `func(db, ...)`): the wrapper returns the coroutine before it ran and its commit never runs."""
    module, function = project.functions[fid]
    found = []
    for decorator, target in project.decorator_functions_of(fid):
        target_module, wrapper = project.functions[target]
        if wrapper.wraps != "sync" or wrapper.wrapped is None:
            continue
        handed = {
            arg.name for call in wrapper.calls if call.func == f"${wrapper.wrapped}"
            for arg in call.args if arg.name and facts.parameter_of(function, arg) in names
        }
        for call in wrapper.calls:
            if call.receiver in handed and call.method in AWAITED_METHODS and not call.awaited:
                text = f"{call.receiver}.{call.method}()"
                found.append((
                    Blocking(call.line, text),
                    f"{target_module.path}:{call.line} ({text} in the plain wrapper of @{decorator.text.lstrip('@')} "
                    f"around {module.name}.{function.qualname}, which returns its coroutine unrun)",
                ))
    return found


def never_runs(project: Project, function: facts.Function, index: int) -> bool:
    """Whether the call at `index` is a builtin that never runs a coroutine it is handed: it
    iterates, measures or prints the coroutine object (`list(...)`, `len(...)`, `print(...)`)."""
    outer = next((c for c in function.calls if c.index == index), None)
    if outer is None or outer.callee is None or outer.nested:
        return False
    return (project.canonical(outer.callee) or "").removeprefix("builtins.") in NEVER_RUN


def _held_async_sessions(project: Project, module: facts.Module, function: facts.Function) -> set[tuple[str, str]]:
    """(`$self.session`, method) for each AsyncSession coroutine method on what a method's
    instance holds: a repository's `__init__(self, session: AsyncSession)` keeping it as
    `self.session = session`, its own or inherited from a base (one generic over the session
    type, `Repository[AsyncSession]`, included). Only what that `__init__` declares is taken:
    an attribute set elsewhere may hold anything."""
    from async_migrate.codemods.classes import project_classes
    from async_migrate.codemods.held_session import init_held_async

    owner, dot, _ = function.qualname.rpartition(".")
    if not dot or ".<locals>." in function.qualname:
        return set()
    attributes = init_held_async(project, project_classes(project), f"{module.name}.{owner}")
    return {(f"$self.{attr}", method) for attr in attributes for method in AWAITED_METHODS}
