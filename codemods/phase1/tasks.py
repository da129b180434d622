"""Phase one on a blocking `async def` background task: make it a plain `def`, when that is sound.

Starlette awaits an `async def` background task on the event loop after the response, and runs
a plain `def` one in its threadpool (`BackgroundTask.__call__`). A task that does synchronous
Session or engine work and never awaits therefore stops blocking the loop by losing `async`, as
a route does. Sound only when nothing else relies on it being a coroutine function: every use
of it is as the function handed to Starlette (`background_tasks.add_task(f, ...)` on a
`BackgroundTasks`, `BackgroundTask(f, ...)`), nothing calls it, and nothing in it needs the
event loop or a Session that must not reach the threadpool. Otherwise it stays, with the reason.
"""

from __future__ import annotations

from typing import cast

from async_migrate.codemods.outcome import TASK_KIND as KIND
from async_migrate.codemods.outcome import Outcome
from async_migrate.codemods.phase1.needs import NeedKind, _values, coroutine_needs
from async_migrate.codemods.phase1.shared_session import (
    SharedUse,
    registry_dependency,
    shared_session_uses,
    thread_scoped_uses,
)
from async_migrate.codemods.project import FunctionId, Handler, HandlerKind, Project
from async_migrate.codemods.rules.am128_coroutine_task_blocks import RULE as AM128
from async_migrate.codemods.vocabulary.starlette import BACKGROUND_TASK, BACKGROUND_TASKS


def starlette_sites(project: Project) -> dict[FunctionId, list[tuple[str, int]]]:
    """Each project function handed to Starlette as a background task: (module path, line) of
    each `tasks.add_task(f, ...)` on a `BackgroundTasks` and each `BackgroundTask(f, ...)`."""
    cached = project.derived.get("phase1.starlette_tasks")
    if cached is None:
        found: dict[FunctionId, list[tuple[str, int]]] = {}
        handed: dict[FunctionId, list[tuple[str, int, SharedUse]]] = {}
        for module, function in project.functions.values():
            for call in function.calls:
                if call.method == "add_task":
                    receiver = call.receiver
                    typed = receiver is not None and (
                        any(p.name == receiver and any(project.canonical(a) in BACKGROUND_TASKS for a in p.annotation)
                            for p in function.params)
                        or any(b.name == receiver and not b.entered and b.expr.endswith("()")
                               and project.canonical(b.expr[:-2]) in BACKGROUND_TASKS for b in function.bindings)
                    )
                    if not typed:
                        continue  # an `add_task` of some other object: it may await what it is given
                elif project.canonical(call.callee) not in BACKGROUND_TASK:
                    continue
                first = next((a for a in call.args if a.position == 0), None)
                target = project.function(first.ref) if first is not None and first.ref else None
                if target is not None:
                    task = (target[0].name, target[1].key)
                    found.setdefault(task, []).append((module.path, call.line))
                    passed = {a.name for a in call.args if a.name and a.position != 0}
                    handed.setdefault(task, []).extend(
                        (module.path, call.line, use) for param in function.params
                        if param.name in passed and (use := registry_dependency(project, param)) is not None
                    )
        cached = project.derived["phase1.starlette_tasks"] = found
        project.derived["phase1.starlette_handed"] = handed
    return cast("dict[FunctionId, list[tuple[str, int]]]", cached)


def handed_registry_sessions(project: Project, task: FunctionId) -> list[tuple[str, int, SharedUse]]:
    """The Sessions a handler hands the task at a Starlette site (`add_task(job, db)`) that its
    dependency takes from a `scoped_session` not scoped to the request (`db = Depends(get_db)` on
    `return ScopedSession()`): one Session other requests use too, with the site's path and line."""
    starlette_sites(project)
    handed = cast("dict[FunctionId, list[tuple[str, int, SharedUse]]]", project.derived["phase1.starlette_handed"])
    return handed.get(task, [])


def kept_because(project: Project, task: FunctionId) -> str | None:
    """None when phase one makes the task a plain `def`; else why it stays `async def`."""
    module, function = project.functions[task]
    if any(h.id == task for h in project.handlers):
        return "it is a handler itself"
    if "." in function.qualname:
        return "it is a method or a nested function"
    if function.decorators:
        return f"it is decorated (`@{function.decorators[0].callee or '...'}`)"
    if function.is_generator:
        return "it is an async generator"
    if function.awaits:
        line, text = function.awaits[0]
        return f"it awaits at {module.path}:{line} (`{text}`)"
    sites = starlette_sites(project).get(task, [])
    if not sites:
        return "it is not handed to Starlette's `BackgroundTasks.add_task` or `BackgroundTask` everywhere"
    for need in coroutine_needs(project, Handler(module, function, HandlerKind.DEPENDENCY)):
        if need.kind is not NeedKind.VALUE:
            return need.reason().text
    # Each Starlette site hands the function on once: any use beyond those is a value other
    # code may await or schedule (`start_soon`, `create_task`, a table of coroutine functions).
    uses = _values(project).get(task, [])
    for path in sorted({u[0] for u in uses}):
        own = sorted(line for p, line in sites if p == path)
        escapes = sorted(line for p, line, _ in uses if p == path)
        if len(escapes) > len(own) or any(e < s for e, s in zip(escapes, own, strict=False)):
            extra = next(u for u in uses if u[0] == path)
            return f"it is also used as a value at {extra[0]}:{extra[1]} (`{extra[2]}`)"
    shared = shared_session_uses(project, task)[:1] or thread_scoped_uses(project, task)[:1]
    if shared:
        use = shared[0]
        return f"its Session work at {use.path}:{use.line} is on {use.holder}, which must not reach the threadpool"
    for path, line, use in handed_registry_sessions(project, task)[:1]:
        return f"{path}:{line} hands it {use.holder}, which must not reach the threadpool"
    return None


def task_handlers(project: Project) -> dict[FunctionId, Handler]:
    """Each `async def` handed to Starlette as a background task, as the handler of its own
    entry (`KIND`): what a kept decision on one is rebuilt on (`run.remembered`)."""
    found = {}
    for fid in starlette_sites(project):
        module, function = project.functions[fid]
        if function.is_async:
            found[fid] = Handler(module, function, KIND)
    return found


def converted_tasks(project: Project, outcomes: list[Outcome]) -> list[Outcome]:
    """An entry (`convert`) for each blocking `async def` background task of the handlers decided
    in `outcomes` that phase one makes a plain `def`, in the files --only/--exclude select, in
    file and line order: the rewrite changes it as it changes a handler, and says so as of one."""
    from async_migrate.codemods.engine_work import coroutine_tasks

    found: dict[FunctionId, Outcome] = {}
    for outcome in outcomes:
        for task in coroutine_tasks(project, outcome.handler.id):
            if task.callback or task.fid in found or kept_because(project, task.fid) is not None:
                continue
            module, function = project.functions[task.fid]
            if not project.in_scope(module.path):
                continue
            sites = ", ".join(f"{path}:{line}" for path, line in sorted(starlette_sites(project)[task.fid]))
            blocks = ", ".join(task.inner[:3]) + (", ..." if len(task.inner) > 3 else "")
            found[task.fid] = Outcome(Handler(module, function, KIND), "async", "def", "convert", [AM128.reason(
                f"background task handed to Starlette at {sites}: it blocks the event loop at {blocks} and never "
                "awaits; as a plain def, Starlette runs it in the threadpool"
            )])
    return sorted(found.values(), key=lambda o: (o.handler.module.path, o.handler.function.line))
