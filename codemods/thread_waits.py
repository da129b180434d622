"""Waits on another thread or process: `pool.submit(job).result()` (and `.result()` on what a
local name kept of `submit(...)`), `thread.join()`, `event.wait()`, `lock.acquire()` or `with
lock:` on a `threading` lock, `q.get()` on a `queue.Queue` and `q.put()` on a bounded one,
`concurrent.futures.wait(...)`, `with ThreadPoolExecutor() as pool:` (its end waits for the
jobs), and their `multiprocessing` kind; in a function itself or through the helpers it runs in
place. In a worker thread such a wait holds one request; on the event loop it holds every
request until the other thread acts (the whole job, for a future), and it deadlocks if that
thread waits on the loop. Only what the analysis types is read: an instance built by a call of
the class (in a module-level name, a local, a `self.` attribute its class assigns), a parameter
annotated with the class, what an executor's `submit(...)` hands back. An untyped `x.get()` is
no wait; neither is `put_nowait()`, `get(block=False)`, nor `put()` on a queue built with no
`maxsize`. Read by phase two (AM293: it would make such a `def` function `async def`) and by
`check` (AM342: an `async def` handler waiting so)."""

from __future__ import annotations

from typing import cast

from async_migrate.codemods import facts
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.vocabulary.python import (
    THREAD_WAIT_BLOCK_FLAG,
    THREAD_WAIT_ENTERED,
    THREAD_WAIT_FUNCTIONS,
    THREAD_WAIT_RETURNS,
    THREAD_WAITS,
)

# How many steps of `name -> what it was bound to` to follow (`fut = pool.submit(...)`, `pool`).
_DEPTH = 4
_TYPED = frozenset(THREAD_WAITS) | frozenset(THREAD_WAIT_ENTERED)
_METHODS = frozenset(method for methods in THREAD_WAITS.values() for method in methods)


def thread_wait(project: Project, fid: FunctionId) -> tuple[int, str] | None:
    """Where `fid` waits on another thread, in its own body or through a helper it runs in place
    (a plain function it calls, a coroutine it awaits): (the line in `fid`, the wait as written
    with the chain to it), or None."""
    kept = project.derived.get("thread_waits")
    if kept is None:
        kept = project.derived["thread_waits"] = _waits(project)
    return cast("dict[FunctionId, tuple[int, str]]", kept).get(fid)


def _waits(project: Project) -> dict[FunctionId, tuple[int, str]]:
    found: dict[FunctionId, tuple[int, str]] = {}
    for fid in project.functions:
        own = own_wait(project, fid)
        if own is not None:
            found[fid] = own
    frontier = list(found)
    while frontier:
        callee = frontier.pop()
        module, function = project.functions[callee]
        for edge in project.all_calls_to[callee]:
            call = edge.call
            # a coroutine function's call runs it in place only awaited; a plain one's only not
            if edge.caller in found or call.nested or call.offloaded or call.awaited != function.is_async:
                continue
            found[edge.caller] = (
                call.line,
                f"`{module.name}.{function.qualname}()` (line {call.line}), which runs "
                + found[callee][1].replace(" at line ", f" at {module.path}:"),
            )
            frontier.append(edge.caller)
    return found


def own_wait(project: Project, fid: FunctionId) -> tuple[int, str] | None:
    """The first wait on another thread in `fid`'s own body, not awaited and not offloaded:
    (its line, the wait as written and what it waits on), or None."""
    _, function = project.functions[fid]
    found: list[tuple[int, str]] = []
    for call in function.calls:
        if call.nested or call.offloaded or call.awaited or call.greenlet:
            continue
        what = _call_wait(project, fid, call)
        if what is not None:
            found.append((call.line, f"`{what[0]}` at line {call.line} ({what[1]})"))
    entered = [(expr, line) for expr, line, asynchronous in function.entered if not asynchronous]
    entered += [(b.expr, b.line) for b in function.bindings if b.entered and not b.asynchronous]
    for expression, line in entered:
        made = _made(project, fid, expression, line)
        if made in THREAD_WAIT_ENTERED:
            found.append((line, f"`with {_spelled(project, expression)}:` at line {line} (a {made}: "
                                f"{THREAD_WAIT_ENTERED[made]})"))
    return min(found) if found else None


def _call_wait(project: Project, fid: FunctionId, call: facts.Call) -> tuple[str, str] | None:
    """The waiting call as written and what it waits on, or None."""
    callee = project.canonical(call.callee)
    if callee in THREAD_WAIT_FUNCTIONS:
        return f"{callee}(...)", "waits for the futures it is handed"
    written = call.func or call.callee
    if written is None:
        return None
    holder, _, method = written.rpartition(".")
    if not holder or method not in _METHODS or _not_waiting(call, method):
        return None
    made = _made(project, fid, holder, call.line)
    if made is None or method not in THREAD_WAITS.get(made, ()):
        return None
    if method == "put" and made.startswith("queue.") and _unbounded(project, fid, holder, call.line):
        return None  # a queue with no `maxsize` takes every item at once
    return f"{_spelled(project, holder)}.{method}()", f"a {made}"


def _not_waiting(call: facts.Call, method: str) -> bool:
    """`q.get(False)`, `q.put(x, block=False)`, `lock.acquire(blocking=False)`: told not to wait."""
    flag = THREAD_WAIT_BLOCK_FLAG.get(method)
    if flag is None:
        return False
    literals = dict(call.literals or ())
    return any(literals.get(key) == "False" for key in flag)


def _spelled(project: Project, expression: str) -> str:
    """A flow expression as the code spells it, calls' arguments elided (`pool.submit(...)`)."""
    return project.written(expression).replace("()", "(...)")


def _made(project: Project, fid: FunctionId, expression: str, line: int, depth: int = 0) -> str | None:
    """The class of the waiting object `expression` (a flow expression read in `fid` at `line`)
    evaluates to, where the analysis can tell; else None."""
    if depth > _DEPTH or not expression:
        return None
    if expression.endswith("()"):
        inner = expression[:-2]
        if "(" not in inner and not inner.startswith("$"):
            made = project.canonical(inner)
            if made in _TYPED:
                return made
        holder, _, method = inner.rpartition(".")
        base = _made(project, fid, holder, line, depth + 1) if holder else None
        return THREAD_WAIT_RETURNS.get((base, method)) if base is not None else None
    if "(" in expression:
        return None
    if expression.startswith("$"):
        return _local(project, fid, expression[1:], line, depth)
    made = _module_value(project, expression)
    if made is not None:
        return made
    # `HUB.queue` on a module-level instance of a project class whose `__init__` builds one
    base, _, attribute = expression.rpartition(".")
    target = project.resolve(base) if base else None
    if target is None or target.kind != "value" or target.value is None or target.value.kind != "call":
        return None
    owner = project.flow.classes.resolve(target.value.ref)
    return _attribute(project, owner, attribute, depth) if owner is not None else None


def _module_value(project: Project, ref: str) -> str | None:
    target = project.resolve(ref)
    value = target.value if target is not None and target.kind == "value" else None
    if value is None:
        return None
    if value.kind == "call":
        made = project.canonical(value.ref)
        if made in _TYPED:
            return made
    return next((m for ref in value.annotation if (m := project.canonical(ref)) in _TYPED), None)


def _local(project: Project, fid: FunctionId, name: str, line: int, depth: int) -> str | None:
    _, function = project.functions[fid]
    head, _, attribute = name.partition(".")
    param = next((p for p in function.params if p.name == head), None)
    if attribute:
        if "." in attribute or param is None or function.params[0] is not param:
            return None
        owner = project.flow.classes.owner(fid)
        return _attribute(project, owner, attribute, depth) if owner is not None else None
    if param is not None:
        return next((m for ref in param.annotation if (m := project.canonical(ref)) in _TYPED), None)
    bound = [b for b in function.bindings if b.name == head and b.line <= line]
    if not bound:
        return None
    binding = bound[-1]
    made = _made(project, fid, binding.expr, binding.line, depth + 1)
    if binding.entered and (made is None or "Executor" not in made):
        return None  # `with lock as held:` binds what `__enter__` returns: an executor itself, a lock's True
    return made


def _attribute(project: Project, owner: str, attribute: str, depth: int) -> str | None:
    """What `self.<attribute>` holds on an instance of project class `owner`: a waiting object its
    methods (or a project base's) assign built by a call of the class, and nothing else."""
    classes = project.flow.classes
    made = set()
    for ancestor in classes.mro(owner):
        for assigner, expression in classes.assigned.get((ancestor, attribute), ()):
            made.add(_made(project, assigner, expression, 10**9, depth + 1) if expression.endswith("()") else None)
    return made.pop() if len(made) == 1 else None


def _unbounded(project: Project, fid: FunctionId, holder: str, line: int) -> bool:
    """Whether the queue `holder` names was built, where the analysis reads it, with no
    `maxsize` (or `maxsize=0`): its `put()` never waits."""
    if holder.startswith("$"):
        _, function = project.functions[fid]
        bound = [b for b in function.bindings if b.name == holder[1:] and b.line <= line]
        if not bound or not bound[-1].expr.endswith("()"):
            return False
        calls = [c for c in function.calls if c.line == bound[-1].line and c.callee is not None
                 and project.canonical(c.callee) in THREAD_WAITS]
        if len(calls) != 1:
            return False
        args = [(a.position, a.keyword) for a in calls[0].args]
        literals = dict(calls[0].literals or ())
        sizes = [literals.get(0, "?") if position == 0 else literals.get("maxsize", "?")
                 for position, keyword in args if position == 0 or keyword == "maxsize"]
        return all(size == "0" for size in sizes)
    target = project.resolve(holder)
    value = target.value if target is not None and target.kind == "value" else None
    if value is None or value.kind != "call":
        return False
    sizes = [a.text for index, a in enumerate(value.args) if a.keyword == "maxsize" or (a.keyword is None and index == 0)]
    return all(size == "0" for size in sizes)


def awaited_form(wait: str) -> str:
    """How to await the wait `thread_wait` described, rather than hold the thread running it."""
    if "concurrent.futures.Future" in wait:
        return "`await asyncio.wrap_future(future)`"
    return "`await run_in_threadpool(...)` around it"
