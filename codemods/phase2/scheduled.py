"""Coroutines handed to a scheduler (`gather(f(db))`, `create_task(f(db))`, `tg.start_soon(f, db)`):
never awaited in place, and run beside the caller's code when the scheduler is a concurrent one."""

from __future__ import annotations

from async_migrate.codemods import facts
from async_migrate.codemods.project import Project
from async_migrate.codemods.vocabulary.python import (
    CONCURRENT_METHODS,
    CONCURRENT_WRAPPERS,
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
    return project.canonical(call.callee) in wrappers or call.method in methods


def written(call: facts.Call) -> str:
    """The call's function as written: `asyncio.gather`, `tg.start_soon`."""
    if call.receiver is not None and call.method is not None:
        return f"{call.receiver}.{call.method}"
    return call.func or call.callee or "a scheduler"
