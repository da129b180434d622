"""One synchronous Session used from worker threads at the same time (check's AM335).

A synchronous Session is not thread-safe: two offloads of work on it running at once are one
Session used from two threads (the rule's doc, AM335, says what breaks). Read on an `async def`
handler and on the project coroutines it awaits handing its Session on (`overlapping_offloads`);
`beside_running_offloads` tells phase one's `--offload-mixed` which calls not to offload.
"""

from __future__ import annotations

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect.handoff import STARTED
from async_migrate.codemods.concurrent_session import Overlap
from async_migrate.codemods.phase2 import scheduled
from async_migrate.codemods.project import Edge, FunctionId, Project
from async_migrate.codemods.session_work import session_work_view
from async_migrate.codemods.vocabulary.sqlalchemy import SESSION_IO_METHODS

_DEPTH = 3  # how far into the project coroutines awaited with the Session
_STARTS = ("start_soon", "start")  # a task group's, taking the function first


def overlapping_offloads(project: Project, fid: FunctionId) -> Overlap:
    """Offloads on one synchronous Session that may run at the same time, in the `async def`
    handler `fid` and the project coroutines it awaits handing its Session on (a few calls deep).

    An *offload* is a call running a function in a worker thread (`run_in_threadpool`,
    `asyncio.to_thread`, `loop.run_in_executor`, `anyio.to_thread.run_sync`: `facts.Call.offloaded`)
    that works on one of the function's Sessions: a project function handed it that uses it, or
    the Session's own bound method (`to_thread(db.scalar, q)`). Offloads overlap when two or more
    on the same Session reach one concurrent scheduler (`phase2.scheduled.concurrent`: `gather`,
    `create_task`, a task group), or one is made once per round of a loop or comprehension before
    its scheduler runs, or when one runs as a task while other work on that Session runs
    (`facts.Call.beside`: another offload, awaited or scheduled, or the Session's own method on the
    loop) before the task is joined. Offloads awaited one after another, and offloads each on a
    Session of its own, are none.
    """
    found = Overlap()
    frontier: list[tuple[FunctionId, str]] = [(fid, "")]
    seen: set[FunctionId] = set()
    for _ in range(_DEPTH):
        following: list[tuple[FunctionId, str]] = []
        for current, where in frontier:
            if current in seen:
                continue
            seen.add(current)
            _read(project, current, where, found)
            for edge in project.all_calls_from.get(current, ()):
                module, callee = project.functions[edge.callee]
                if edge.session_args and callee.is_async and not callee.is_generator and edge.call.awaited:
                    following.append((edge.callee, f" in `{module.name}.{callee.qualname}()`"))
        frontier = following
    return found


def beside_running_offloads(project: Project, fid: FunctionId) -> set[int]:
    """Indexes of the calls in `fid` that run while a task works on one of its Sessions
    (`t = create_task(run_in_threadpool(count, db))`, or `create_task(refresh(db))` for an `async
    def` doing Session work on the loop, ... `await t`): a call there offloaded would use that
    Session from a second thread at the same time, so `--offload-mixed` leaves it in place."""
    _, function = project.functions[fid]
    by_index = {call.index: call for call in function.calls if not call.offloaded}
    found: set[int] = set()
    for edge in project.all_calls_from.get(fid, ()):
        if not edge.session_args or edge.call.nested:
            continue
        outer = by_index.get(edge.call.index) if edge.call.offloaded else edge.call
        for task in _tasks(project, function, outer) if outer is not None else ():
            found.update(i for i in task.beside if i != task.index)
    return found


def _tasks(project: Project, function: facts.Function, outer: facts.Call) -> list[facts.Call]:
    """The calls running the offloading call `outer` beside the rest: the concurrent schedulers it
    reaches (`gather(to_thread(f, db), ...)`); else itself where it is one (`tg.start_soon(
    to_thread.run_sync, f, db)`), or where it starts its thread at once and is joined later
    (`fut = loop.run_in_executor(None, f, db)` ... `await fut`)."""
    found = scheduled.concurrent(project, function, outer)
    if found:
        return found
    if _last(outer) == STARTED and not outer.awaited:
        return [outer]
    if not outer.awaited and scheduled.is_scheduler(project, outer, concurrent=True):
        return [outer]
    return []


def _last(call: facts.Call) -> str:
    """The called name's last part: `run_in_executor` in `asyncio.get_running_loop().run_in_executor`."""
    return call.method or (call.func or call.callee or "").rpartition(".")[2]


def _read(project: Project, fid: FunctionId, where: str, found: Overlap) -> None:
    _, function = project.functions[fid]
    if not any(call.offloaded for call in function.calls):
        return  # nothing offloaded here
    offloads = _offloads(project, fid)
    if not offloads:
        return
    # the offloading call itself (`run_in_threadpool(...)`), not the record of what it runs
    by_index = {call.index: call for call in function.calls if not call.offloaded}
    groups: dict[int, list[tuple[facts.Call, str, str]]] = {}
    for index, (session, text) in offloads.items():
        outer = by_index.get(index)
        if outer is None or outer.nested:
            continue
        for task in _tasks(project, function, outer):
            groups.setdefault(task.index, []).append((outer, session, text))
    for index in sorted(groups):
        task = by_index[index]
        written = f"{scheduled.written(task)}()"
        for session in sorted({s for _, s, _ in groups[index]}):
            group = [(outer, text) for outer, s, text in groups[index] if s == session]
            several = [text for outer, text in group if set(outer.loops) - set(task.loops)]
            if len(group) > 1 or several:
                made = f"{several[0]}, made once per round of a loop or comprehension," if several and len(group) == 1 \
                    else f"{len(group)} calls running in worker threads on {_shown(session)} " \
                    f"({', '.join(sorted({t for _, t in group}))})"
                found.add(task.line, written, f"hands {made} to `{written}` at line {task.line}{where}, which runs "
                          "them at the same time")
                continue
            other = _meanwhile(project, fid, task, session, offloads, groups, by_index)
            if other is not None:
                found.add(task.line, written, f"hands {group[0][1]} to `{written}` at line {task.line}{where}, and "
                          f"while that task runs, {other}")


def _meanwhile(
    project: Project,
    fid: FunctionId,
    task: facts.Call,
    session: str,
    offloads: dict[int, tuple[str, str]],
    groups: dict[int, list[tuple[facts.Call, str, str]]],
    by_index: dict[int, facts.Call],
) -> str | None:
    """What works on the Session `session` while the task `task` still runs, as a reason says it."""
    for index in sorted(task.beside):
        if index == task.index:
            return "the same line makes another such task (a loop), before this one is joined"
        if index in groups and any(s == session for _, s, _ in groups[index]):
            other = by_index[index]
            return (f"`{scheduled.written(other)}()` at line {other.line} runs more work on {_shown(session)} "
                    "in a worker thread")
        if index in offloads and offloads[index][0] == session and index in by_index and by_index[index].awaited:
            return f"{offloads[index][1]} runs in a worker thread at line {by_index[index].line}"
    _, function = project.functions[fid]
    for call in function.calls:
        if call.index in task.beside and call.receiver == session and call.method in SESSION_IO_METHODS \
                and not call.offloaded and not call.nested:
            return f"`{session}.{call.method}()` at line {call.line} runs on the event loop"
    for edge in project.all_calls_from.get(fid, ()):
        call = edge.call
        if call.index in task.beside and not call.offloaded and not call.nested and _uses(project, edge) == session:
            module, callee = project.functions[edge.callee]
            return f"`{module.name}.{callee.qualname}()`, given `{session}`, runs at line {call.line}"
    return None


def _shown(session: str) -> str:
    """A Session key of `_offloads` as a reason names it: `the Session `db``, or the one an object holds."""
    return f"the Session `{session[1:]}` holds" if session.startswith("@") else f"the Session `{session}`"


def _held_by(project: Project, fid: FunctionId, edge: Edge, outer: facts.Call | None) -> str | None:
    """The local object (as written) whose bound method the offloading call `outer` runs, where
    that method works on a Session the object holds (`to_thread.run_sync(repo.save, x)`), or None."""
    if outer is None:
        return None
    position = 1 if _last(outer) in (STARTED, *_STARTS) else 0
    handed = next((a for a in outer.args if a.position == position and a.keyword is None), None)
    if handed is None or handed.expr is None or not handed.expr.startswith("$"):
        return None
    head, dot, _ = handed.expr[1:].rpartition(".")
    if not dot or "(" in head or head.partition(".")[0] in ("self", "cls"):
        return None  # a method of what the handler's own instance holds is read as its own work
    work = session_work_view(project, edge.callee)
    return head if work.own or work.reached else None


def _uses(project: Project, edge: Edge) -> str | None:
    """The caller's Session name the call hands to a parameter the callee works with, or None."""
    if not edge.session_args:
        return None
    used = session_work_view(project, edge.callee).used
    return next((name for param, name in edge.session_args.items() if param in used), None)


def _offloads(project: Project, fid: FunctionId) -> dict[int, tuple[str, str]]:
    """Offloading call index -> (the Session it works on, the work as a message names it), for each
    call in `fid`'s own body running work on one of its synchronous Sessions in a worker thread."""
    _, function = project.functions[fid]
    names = project.session_names_view(fid)
    found: dict[int, tuple[str, str]] = {}
    outers = {call.index: call for call in function.calls if not call.offloaded}
    for edge in project.all_calls_from.get(fid, ()):
        call = edge.call
        # `to_thread(lambda: crud.count(db))`: the lambda's calls run where the offloading call runs
        index = call.offloaded_by if call.nested else call.index
        if not call.offloaded or index is None:
            continue
        module, callee = project.functions[edge.callee]
        given = _uses(project, edge)
        if given is not None and given in names:
            found.setdefault(index, (given, f"`{module.name}.{callee.qualname}()` given `{given}`"))
            continue
        held = None if call.nested else _held_by(project, fid, edge, outers.get(index))
        if held is not None:
            # `to_thread.run_sync(repo.save, x)`: the Session the object holds, which each such
            # offload on that same object shares
            found.setdefault(index, (f"@{held}", f"`{module.name}.{callee.qualname}()` on `{held}`"))
    for call in function.calls:
        # the Session's bound method handed to the thread: `to_thread(db.scalar, q)`
        head, dot, method = (call.func or "").removeprefix("$").rpartition(".")
        if call.offloaded and not call.nested and (call.func or "").startswith("$") and dot and head in names \
                and method in SESSION_IO_METHODS:
            found.setdefault(call.index, (head, f"`{head}.{method}()`"))
    return found
