"""Blocking coroutines a `def` handler makes and leaves for an event loop to run.

A `def` handler runs in the threadpool, but a coroutine it (or a plain helper it calls in place)
makes of an `async def` doing synchronous Session work, and hands on (`fire(record(db))`,
`run_coroutine_threadsafe(...)`, `PENDING.append(record(db))`, `return record(db)`), runs on an
event loop after the handler returns or beside it, or never. Phase one says so beside "runs in
the threadpool" (AM121), `check` reports it (AM316). A loop of the worker thread's own
(`asyncio.run(...)`, `run_until_complete(...)` around the call) runs it there, and is no such case.
"""

from __future__ import annotations

from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.session_work import (
    SessionWork,
    blocking_coroutines,
    coroutine_blocking,
    session_work_shallow,
)
from async_migrate.codemods.vocabulary.python import LOOP_THREAD_CALLS, TASK_STARTERS


@dataclass(slots=True)
class HandedCoroutine:
    """A blocking coroutine a `def` handler makes and leaves for something else to run."""

    line: int  # in the handler
    call: str  # the call there, as a Blocking names it
    what: str  # how it leaves the coroutine, with the line
    helper: str  # the coroutine function
    inner: list[str]  # where it blocks, as `path:line (call)`
    when: str = "whatever runs it does so on an event loop, after the handler returns or beside it"


def handed_coroutines(project: Project, fid: FunctionId, work: SessionWork) -> list[HandedCoroutine]:
    """The blocking coroutines a `def` handler (`fid`) makes and does not run: its own calls of
    blocking coroutine helpers handed straight to another call (`fire(record(db))`,
    `run_coroutine_threadsafe(record(db), loop)`), which AM311 leaves alone, and the calls of plain
    helpers that make one and hand it on or return it (`keep(make(db))`, `remember(db)`). No loop
    of the worker thread's own (`asyncio.run`, `run_until_complete`, around it at any depth) runs
    them, so an event loop does, after the handler or beside it, or nothing does."""
    function = project.functions[fid][1]
    by_index = {call.index: call for call in function.calls}
    blocking = {(item.line, item.helper): item for item in work.in_coroutines if item.helper and not item.generator}
    escaping = _escaping_coroutines(project)
    found: list[HandedCoroutine] = []
    for edge in project.all_calls_from.get(fid, ()):
        call = edge.call
        if call.awaited or call.offloaded or call.nested or _in_own_loop(project, by_index, call):
            continue
        module, callee = project.functions[edge.callee]
        name = f"{module.name}.{callee.qualname}"
        item = blocking.get((call.line, name))
        outer = by_index.get(call.argument_of) if call.argument_of is not None else None
        # `create_task(record(db))`: a task `engine_work.coroutine_tasks` reports (AM306, AM128)
        started = outer is not None and (
            project.canonical(outer.callee) in TASK_STARTERS or (outer.method or outer.chained) == "create_task"
        )
        if item is not None and outer is not None and item.helper is not None and not started:
            to = project.call_written(outer)
            found.append(HandedCoroutine(call.line, item.call, f"hands the coroutine of {item.helper} to `{to}()` "
                                         f"at line {call.line}", item.helper, item.inner))
        elif edge.callee in escaping and not callee.is_async:
            helper, where, inner = escaping[edge.callee]
            found.append(HandedCoroutine(call.line, f"{name}(...)", f"calls {name} at line {call.line}, which leaves "
                                         f"the coroutine of {helper} unrun ({where})", helper, inner))
    found.extend(_run_on_loop(project, fid))
    unique: dict[tuple[int, str], HandedCoroutine] = {}
    for handed in found:
        unique.setdefault((handed.line, handed.call), handed)
    return list(unique.values())


def _in_own_loop(project: Project, by_index: dict[int, facts.Call], call: facts.Call) -> bool:
    """Whether a loop of the calling thread's own runs what `call` returns: `asyncio.run(f())`,
    `loop.run_until_complete(wait_for(f(), 5))`."""
    around = by_index.get(call.argument_of) if call.argument_of is not None else None
    while around is not None:
        if project.starts_loop(around):
            return True
        around = by_index.get(around.argument_of) if around.argument_of is not None else None
    return False


def _escaping_coroutines(project: Project) -> dict[FunctionId, tuple[str, str, list[str]]]:
    """Plain functions that make a blocking coroutine and do not run it (returned, handed on, kept),
    themselves or through the plain helpers they call in place: (the coroutine function, where it
    is made, where it blocks)."""
    kept = project.derived.get("escaping_coroutines")
    if kept is not None:
        return kept  # type: ignore[return-value]
    found: dict[FunctionId, tuple[str, str, list[str]]] = {}
    blocking = blocking_coroutines(project)
    for fid, (module, function) in project.functions.items():
        if function.is_async:
            continue
        by_index: dict[int, facts.Call] | None = None
        for edge in project.all_calls_from[fid]:
            call = edge.call
            callee_module, callee = project.functions[edge.callee]
            if not callee.is_async or callee.is_generator or call.awaited or call.offloaded or call.nested:
                continue
            if not (edge.session_args or edge.callee in blocking):
                continue
            by_index = by_index if by_index is not None else {c.index: c for c in function.calls}
            if _in_own_loop(project, by_index, call):
                continue
            inner = coroutine_blocking(project, edge.callee, {fid})
            if inner:
                found[fid] = (f"{callee_module.name}.{callee.qualname}", f"{module.path}:{call.line}", inner)
                break
    frontier = list(found)
    indexes: dict[FunctionId, dict[int, facts.Call]] = {}
    while frontier:
        callee_fid = frontier.pop()
        for edge in project.all_calls_to[callee_fid]:
            call = edge.call
            caller = project.functions[edge.caller][1]
            if edge.caller in found or caller.is_async or call.awaited or call.offloaded or call.nested:
                continue
            if edge.caller not in indexes:
                indexes[edge.caller] = {c.index: c for c in caller.calls}
            if _in_own_loop(project, indexes[edge.caller], call):
                continue
            found[edge.caller] = found[callee_fid]
            frontier.append(edge.caller)
    project.derived["escaping_coroutines"] = found
    return found


def _run_on_loop(project: Project, fid: FunctionId) -> list[HandedCoroutine]:
    """`anyio.from_thread.run(record, db)`, `loop.call_soon_threadsafe(record, db)`: a project
    function handed to what runs it on the event loop's own thread, doing synchronous Session work."""
    found: list[HandedCoroutine] = []
    for call in project.functions[fid][1].calls:
        if call.nested or project.canonical(call.callee) not in LOOP_THREAD_CALLS:
            continue
        first = next((a for a in call.args if a.position == 0), None)
        target = project.resolve(first.ref) if first is not None and first.ref else None
        if target is None or target.kind != "function" or target.module is None or target.function is None:
            continue
        handed = (target.module.name, target.function.key)
        module, function = project.functions[handed]
        if function.is_async:
            inner = coroutine_blocking(project, handed, {fid})
        else:
            inner = [f"{module.path}:{b.line} ({b.call})" for b in session_work_shallow(project, handed).blocking
                     if not b.offloaded]
        if inner:
            name = f"{module.name}.{function.qualname}"
            written = project.call_written(call)
            found.append(HandedCoroutine(call.line, f"{name}(...)", f"hands {name} to `{written}()` at line "
                                         f"{call.line}", name, inner, "the event loop's own thread runs it while the handler waits"))
    return found
