"""Work on a worker thread that uses a thread-local `scoped_session` and never removes it there.

A registry's `remove()` after each request runs on the event loop thread and empties that
thread's entry only, so a worker thread's Session (and its transaction and connection) outlives
the request. Phase one never moves such work to a thread (AM132); this finds the work already
there (check's AM332, whose doc lists the shapes and what is left out).
"""

from __future__ import annotations

from dataclasses import dataclass

from async_migrate.codemods import facts
from async_migrate.codemods.decorator_work import runs_on_loop
from async_migrate.codemods.phase1.shared_session import (
    SharedUse,
    offloaded_registry_calls,
    own_scoped_uses,
    thread_scoped_uses,
)
from async_migrate.codemods.project import Handler, Project
from async_migrate.codemods.vocabulary.python import CONTEXT_MANAGER_DECORATORS


@dataclass(frozen=True, slots=True)
class WorkerUse:
    """A use of a registry in work a worker thread runs: how that work got there (empty for the
    handler itself), the function handed over and the handler's line handing it (0), and the use."""

    how: str
    line: int
    use: SharedUse
    callee: str = ""
    offloaded: bool = False  # handed to `to_thread`/`run_in_threadpool`, not a background task
    direct: bool = False  # a method of the registry itself handed over (`run_in_threadpool(db_session.remove)`)
    # the work is written in a lambda or nested function the handler hands over (`lambda: reg.query(...)`)
    inside: bool = False


def worker_registry_uses(project: Project, handler: Handler) -> list[WorkerUse]:
    """Uses of a thread-local (or task- or one-key) `scoped_session` in the work `handler` runs
    on worker threads, in the order met: its own body when it is a `def` route or dependency,
    then each offloaded call and plain background task. A thread's registry whose use the same
    function ends on every path (commit, rollback, close or remove after it and in an `except`
    catching everything, or in a `finally`, as open-webui's vector clients do) keeps no
    transaction: not counted; work calling the registry's `remove()` itself in a
    `finally` is left out by `thread_scoped_uses` already. Work a shutdown handler (or a
    lifespan after its `yield`) hands over runs after the last request: no request gets that
    worker's Session, and a `remove()` there ends none."""
    return [
        found for found in _worker_uses(project, handler)
        if not at_shutdown(project, handler, found.line)
        and (found.direct or found.use.task or found.use.handed or found.use.one_key or not _ended(project, found.use))
    ]


def at_shutdown(project: Project, handler: Handler, line: int) -> bool:
    """Whether the line `line` of `handler` runs only after the application's last request: in a
    shutdown handler, or below a lifespan's `yield` (for every event it is registered for)."""
    events = project.lifecycle_events.get(handler.id)
    below = line > handler.function.yield_line > 0
    return bool(events) and line > 0 and all(
        event == "shutdown" or (event == "lifespan" and below) for event in events or ()
    )


_ENDING = ("commit", "rollback", "close", "remove")


def _ended(project: Project, use: SharedUse) -> bool:
    """Whether `use` ends the registry's transaction (`commit()`, `rollback()`, `close()`,
    `remove()`), or the function making it (`self.session.query()` at its line) calls one of
    those on the same registry after it however it is left (`_ends_always`); or it makes a Session from the registry into a name
    the function closes on every path after (`session = ScopedSession()`, then `session.close()` in a
    `finally`, or `with session:`)."""
    at = _at(project, use)
    if any(_closed_always(project, function, use.line) for _, function in at):
        return True
    receiver, _, method = use.call.removesuffix("()").rpartition(".")
    if not receiver:
        return False
    prefix = f"${receiver}."

    def ends_after(module: facts.Module, function: facts.Function, line: int, depth: int) -> bool:
        # a plain generator dependency's code after its `yield` may run on another worker
        if not function.is_generator and _ends_always(
            function, line, _lines_on(project, module, function, use, prefix, _ENDING),
            _lines_on(project, module, function, use, prefix, ("begin",)),
        ):
            return True
        # `self._ensure_index()` in `__init__`, which commits after it: each caller (in the
        # module, a few calls up) ends it; one handing it to a worker thread ends only its own
        # thread's Session (a middleware's `remove()` after `await run_in_threadpool(work)`)
        callers = project.all_calls_to.get((module.name, function.key), ())
        return depth < 3 and bool(callers) and all(
            project.functions[e.caller][0] is module and not e.call.offloaded
            and ends_after(module, project.functions[e.caller][1], e.call.line, depth + 1)
            for e in callers
        )

    # the functions with a call on the use's line, and whether that call is on the registry as written
    making = [
        (module, function, use.line in _lines_on(project, module, function, use, prefix, None))
        for module, function in at
    ]
    if method in _ENDING and not any(function.is_generator for _, function, _ in making):
        return True  # the end itself
    return next((ends_after(module, function, use.line, 0) for module, function, on in making if on), False)


def _lines_on(
    project: Project, module: facts.Module, function: facts.Function, use: SharedUse, prefix: str,
    methods: tuple[str, ...] | None,
) -> set[int]:
    """The lines of `function`'s calls of `methods` (None: any) on `use`'s registry: through the
    name the use is written with (`$self.session.commit`, `prefix` `$self.session.`), or a
    module-level registry however it is imported (`db_session.commit()`, `scoped.db_session.commit()`)."""
    lines = {
        c.line for c in function.calls
        if (c.func or "").startswith(prefix) and (methods is None or c.func.rpartition(".")[2] in methods)  # type: ignore[union-attr]
    }
    if use.registry:
        lines.update(
            found.line for found in own_scoped_uses(project, (module.name, function.key))
            if found.registry == use.registry
            and (methods is None or found.call.removesuffix("()").rpartition(".")[2] in methods)
        )
    return lines


def _ends_always(function: facts.Function, line: int, at: set[int], begins: set[int]) -> bool:
    """Whether `function` ends the registry's transaction (a call in `ends`) after `line` however
    it is left: in a `finally` around it, by a `with reg.begin():` around it, or both after it on
    the normal path and in an `except` clause catching everything around it (open-webui's `try:
    ...; self.session.commit() except Exception: self.session.rollback(); raise`). An end on the
    normal path alone is skipped by an exception, and the worker's registry keeps the Session in
    its transaction (on PostgreSQL an aborted one) for the next request on that thread."""
    if any(end_line in at and start <= line <= end for end_line, start, end, _ in function.finally_calls):
        return True
    if any(item in begins and start <= line <= end for item, start, end in function.with_calls):
        return True
    return any(
        caught in at and start <= line <= end
        and any(later > line and not first <= later <= last for later in at)
        for caught, start, end, first, last in function.except_calls
    )


def _at(project: Project, use: SharedUse) -> list[tuple[facts.Module, facts.Function]]:
    return [
        (module, function) for module in project.modules.values() if module.path == use.path
        for function in module.functions if any(c.line == use.line for c in function.calls)
    ]


def _closed_always(project: Project, function: facts.Function, line: int) -> bool:
    """Whether the one call on `line`, the registry's, is the value of `name = ...` that `function`
    closes on every path after. `close()` ends the Session's transaction and returns its connection,
    whichever thread runs it; the registry keeps a closed Session, which holds neither. A plain
    generator handing the name on may have it used after its `finally` (`next(gen())`) or by
    another request (a dependency: `handed`); a `@contextmanager` one closes it as its `with` ends."""
    at = [c for c in function.calls if c.line == line]
    if len(at) != 1 or not at[0].statement or line not in function.closed_always:
        return False
    name = next((b.name for b in function.bindings if b.line == line and not b.entered), None)
    decorated = {project.canonical(d.callee) for d in function.decorators if d.callee}
    return name is not None and (
        not function.is_generator or name not in function.yields or bool(decorated & CONTEXT_MANAGER_DECORATORS)
    )


def _worker_uses(project: Project, handler: Handler) -> list[WorkerUse]:
    function = handler.function
    found: list[WorkerUse] = []
    if (
        not function.is_async and handler.kind in ("route", "dependency")
        and runs_on_loop(project, handler.id) is None
    ):
        # a task-keyed registry in a `def` handler is AM331's
        found.extend(WorkerUse("", 0, use) for use in thread_scoped_uses(project, handler.id) if not use.task)
    if function.is_async:
        for use in offloaded_registry_calls(project, handler.id):
            method = use.call.removesuffix("()")
            written = _written_inside(function, use)
            if written is not None and method.rpartition(".")[2] not in _ENDING:
                # `lambda: reg.execute(...)`: work of its own in the worker, like a named helper's,
                # whose Session nothing removes there; the registry's own end handed over in a
                # lambda (`lambda: reg.remove()`) reaches the worker's Session as `reg.remove` does
                line, shown = written
                how = f"hands {shown} to a worker thread" + (f" at line {line}" if shown == "a lambda" else "")
                found.append(WorkerUse(how, line, use, "", offloaded=True, direct=True, inside=True))
                continue
            how = f"hands `{method}` to a worker thread at line {use.line}"
            found.append(WorkerUse(how, use.line, use, method, offloaded=True, direct=True))
    for edge in project.all_calls_from.get(handler.id, ()):
        if edge.call.offloaded and function.is_async:
            name = project.functions[edge.callee][1].qualname
            how = f"hands `{name}` to a worker thread at line {edge.call.line}"
            found.extend(
                WorkerUse(how, edge.call.line, use, name, offloaded=True)
                for use in thread_scoped_uses(project, edge.callee)
            )
    for call in function.calls:
        task = project.background_task(call)
        if task is None:
            continue
        _, body = project.functions[task]
        if body.is_async or body.decorators:
            continue  # an `async def` task runs on the loop (AM306)
        how = f"adds the background task `{body.qualname}` at line {call.line}, which Starlette runs in a worker thread"
        found.extend(WorkerUse(how, call.line, use, body.qualname) for use in thread_scoped_uses(project, task))
    return found


def _written_inside(function: facts.Function, use: SharedUse) -> tuple[int, str] | None:
    """Where `use` is written in a lambda (the offloading call's line, "a lambda") or a nested
    function (the use's own line, "a nested function") `function` hands to a worker thread, rather
    than handed over itself (`run_in_threadpool(reg.execute, ...)`); None for that."""
    at = [c for c in function.calls if c.line == use.line and c.offloaded]
    if not at or not all(c.nested for c in at):
        return None
    by = next((c.offloaded_by for c in at if c.offloaded_by is not None), None)
    if by is None:
        return use.line, "a nested function"
    line = next((c.line for c in function.calls if c.index == by), use.line)
    return line, "a lambda"


def harm(use: SharedUse, split: bool = False, direct: bool = False) -> str:
    """What the use does in a worker thread (`split`: in a plain generator dependency removing the
    registry after its `yield`, which FastAPI may run on another worker than the code before it;
    `direct`: a method of the registry handed over by the code working on it on the loop)."""
    if direct and not use.task and not use.one_key:
        if use.call.endswith(".remove()"):
            return (
                "there it empties that worker's registry, while the Session the request used on the event loop "
                "stays open, with its transaction and connection, into the next request"
            )
        return (
            "there it runs on that worker's own Session, not the one the code on the event loop works on: "
            "what that Session holds (objects added, a transaction begun) is not what it commits, reads or ends"
        )
    if split and not use.task and not use.handed and not use.one_key:
        return (
            "FastAPI runs the code before and after its `yield` in two threadpool calls, perhaps on two workers, "
            "so its `remove()` may empty another thread's registry while this thread keeps its Session from one "
            "request to the next, and after a read with no commit or rollback its transaction and connection"
        )
    if use.task:
        return "no asyncio task runs there, so `asyncio.current_task()` raises RuntimeError and the work fails"
    if use.handed or use.one_key:
        return "other threads use that Session at the same time, which a Session does not allow"
    return (
        "that thread keeps its own Session from one request to the next, which the `remove()` on the event "
        "loop thread (a middleware's) never reaches: after a read with no commit or rollback it keeps its "
        "transaction and connection (idle in transaction, the pool running dry, then every checkout waiting "
        "for its timeout, on the event loop too)"
    )
