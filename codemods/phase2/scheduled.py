"""Coroutines handed to a scheduler (`gather(f(db))`, `create_task(f(db))`, `tg.start_soon(f, db)`):
never awaited in place, and run beside the caller's code when the scheduler is a concurrent one.

`concurrent` finds every spelling of the hand-off the collector records (`astcollect/handoff.py`):
a direct argument, deeper inside one (`gather(*[f(db) for i in ids])`, `wait([f(db)])`), or
through a local name (`coros.append(f(db))`, then `gather(*coros)`). The closure (AM277), check's AM325 and
the self-check read the same answer.
"""

from __future__ import annotations

from typing import cast

from async_migrate.codemods import facts
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.python import (
    CONCURRENT_METHODS,
    CONCURRENT_WRAPPERS,
    PARTIALS,
    SHIELD,
    TASK_METHODS,
    TASK_WRAPPERS,
)


def scheduler(project: Project, function: facts.Function, call: facts.Call) -> facts.Call | None:
    """The call that takes `call` as a direct argument and schedules or awaits the coroutine
    itself (`create_task`, `gather`, `wait_for`, `run`), or None."""
    if call.argument_of is None:
        return None
    outer = next((c for c in function.calls if c.index == call.argument_of and not c.offloaded), None)
    if outer is not None and is_scheduler(project, outer):
        return outer
    return None


def is_scheduler(project: Project, call: facts.Call, concurrent: bool = False) -> bool:
    """Whether `call` takes a coroutine (or a coroutine function) and runs it itself; with
    `concurrent`, only those that run it beside the caller's own code."""
    wrappers, methods = (CONCURRENT_WRAPPERS, CONCURRENT_METHODS) if concurrent else (TASK_WRAPPERS, TASK_METHODS)
    callee = project.canonical(call.callee)
    if callee in wrappers:
        return True
    if concurrent and callee == SHIELD:
        # `shield(f(db))` makes a task of its own: beside the caller unless awaited in place
        return not (call.awaited or call.consumed or call.argument_of is not None)
    if call.method not in methods:
        return False
    # A project function that merely shares a scheduler's name (`crud.create_task(session=db, ...)`,
    # `service.start(db)`) runs in place; one that schedules in its own body keeps the name's reading.
    targets = project.project_callees.get(id(call), [])
    return not targets or any(_schedules(project, target) for target in targets)


def _schedules(project: Project, fid: FunctionId) -> bool:
    """Whether the project function `fid` calls a scheduler by name in its own body."""
    _, function = project.functions[fid]
    return any(
        project.canonical(c.callee) in TASK_WRAPPERS or c.method in TASK_METHODS for c in function.calls
    )


def own_loop(project: Project, fid: FunctionId) -> tuple[int, str] | None:
    """Where the plain function `fid` starts an event loop of its own (`asyncio.run(...)`,
    `loop.run_until_complete(...)`), itself or through the plain helpers it calls in place: (the
    line in `fid`, the call as written with the chain to it), or None. Run in a worker thread that
    works; made `async def`, or called from one, it raises RuntimeError under the running loop."""
    kept = project.derived.get("phase2.own_loops")
    if kept is None:
        kept = project.derived["phase2.own_loops"] = _own_loops(project)
    return cast("dict[FunctionId, tuple[int, str]]", kept).get(fid)


def _own_loops(project: Project) -> dict[FunctionId, tuple[int, str]]:
    found: dict[FunctionId, tuple[int, str]] = {}
    for fid, (_, function) in project.functions.items():
        if function.is_async:
            continue
        call = next((c for c in function.calls if project.starts_loop(c)), None)
        if call is not None:
            found[fid] = (call.line, f"`{written(call)}()` at line {call.line}")
    frontier = list(found)
    while frontier:
        callee = frontier.pop()
        module, function = project.functions[callee]
        for edge in project.all_calls_to[callee]:
            call = edge.call
            if edge.caller in found or call.nested or call.offloaded or call.awaited:
                continue
            found[edge.caller] = (call.line, f"`{module.name}.{function.qualname}()` (line {call.line}), which "
                                  f"runs {found[callee][1]}".replace(" at line ", f" at {module.path}:"))
            if not project.functions[edge.caller][1].is_async:
                frontier.append(edge.caller)
    return found


def written(call: facts.Call) -> str:
    """The call's function as written: `asyncio.gather`, `tg.start_soon`."""
    if call.receiver is not None and call.method is not None:
        return f"{call.receiver}.{call.method}"
    return call.func or call.callee or "a scheduler"


def concurrent(project: Project, function: facts.Function, call: facts.Call) -> list[facts.Call]:
    """The concurrent schedulers the coroutine `call` returns reaches, in source order: as their
    argument, inside one, or through a local name handed to one."""
    found: dict[int, facts.Call] = {}
    indexes = {*call.within, *([call.argument_of] if call.argument_of is not None else [])}
    for outer in function.calls:
        if outer.offloaded or outer.index in found:
            continue
        if outer.index in indexes or (call.held_in is not None and call.held_in in outer.handed):
            if is_scheduler(project, outer, concurrent=True):
                found[outer.index] = outer
    return [found[index] for index in sorted(found)]


def handed_functions(project: Project, fid: FunctionId, call: facts.Call) -> list[tuple[str, FunctionId]]:
    """The methods a concurrent scheduler is handed uncalled as a direct argument, on a local
    name (`tg.start_soon(svc.refresh_all)`, `tg.start_soon(repo.sync, x)`, `tg.start_soon(self.job)`),
    through a local name holding one, or in `partial(...)`: (as written, the method), each one
    the instance's class may run."""
    if call.offloaded or not is_scheduler(project, call, concurrent=True):
        return []
    found: list[tuple[str, FunctionId]] = []
    # A module-level function shares the request's Session only when given it: that is the
    # Session among the arguments, read apart. A local name may hold a method (`job = svc.sync`),
    # and `partial(svc.sync, x)` runs it.
    _, function = project.functions[fid]
    args = list(call.args)
    for inner in function.calls:
        if inner.argument_of == call.index and project.canonical(inner.callee) in PARTIALS:
            args.extend(a for a in inner.args if a.position == 0)
    for arg in args:
        expression = arg.expr if arg.expr is not None else f"${arg.name}" if arg.name and arg.ref is None else None
        if expression is not None:
            targets, _ = project.flow.functions(fid, expression)
            found.extend((project.written(expression), target) for target in targets)
    return found


def unread(project: Project, call: facts.Call) -> str | None:
    """What a concurrent scheduler is handed that the analysis cannot read (`*coros` for a
    parameter), as written, or None."""
    if call.unread and not call.offloaded and is_scheduler(project, call, concurrent=True):
        return call.unread[0]
    return None


def handoffs(project: Project, fid: FunctionId, names: set[str]) -> list[tuple[facts.Call, str]]:
    """The self-check's reading of rewritten code, where `names` hold the AsyncSession: a project
    coroutine given it and handed to a concurrent scheduler however spelled, the AsyncSession
    handed to one with the function, or a scheduler handed what the analysis cannot read."""
    if not names:
        return []
    _, function = project.functions[fid]
    callees = {edge.call.index: edge for edge in project.all_calls_from[fid]}
    beside = "which runs it beside the rest of the request: concurrent use of one AsyncSession"
    found: list[tuple[facts.Call, str]] = []
    for call in function.calls:
        given = [a.name for a in call.args if a.name in names]
        edge = callees.get(call.index)
        module, callee = project.functions[edge.callee] if edge is not None else (None, None)
        outers = concurrent(project, function, call) if given and callee is not None and callee.is_async else []
        if outers and module is not None and callee is not None:
            found.append((call, f"hands `{module.name}.{callee.qualname}()`, given the AsyncSession `{given[0]}`, "
                          f"to `{written(outers[0])}()`, {beside}"))
        elif given and call.receiver not in names and is_scheduler(project, call, concurrent=True):
            found.append((call, f"hands the AsyncSession `{given[0]}` to `{written(call)}()`, {beside}"))
        elif (spread := unread(project, call)) is not None:
            found.append((call, f"hands `{spread}`, which the analysis cannot read, to "
                          f"`{written(call)}()` beside the AsyncSession `{sorted(names)[0]}`"))
    return found
