"""Background tasks on a `scoped_session` keyed on the request, after a middleware removed it.

A registry scoped to the request (`scoped_session(SessionLocal, scopefunc=request_scope.get)`)
is emptied by the `remove()` of the middleware that sets the key. A `BaseHTTPMiddleware` (its
`dispatch`, or an `@app.middleware("http")` function) gets the response from `call_next` before
the application has run the response's background tasks, so its `remove()` runs first. A task
using the registry then runs in the request's context, key and all: the registry makes a new
Session under that key, which nothing removes any more. Each such request leaves a Session in the
registry for good (its identity map; its connection too, after a read with no commit). A pure ASGI
middleware awaits the whole application, background tasks included, before its `remove()`.

Found here: the plain `def` and `async def` background tasks a handler adds (and what they call)
using such a registry without removing it themselves, where a `BaseHTTPMiddleware`-style
middleware removes it (check's AM333).
"""

from __future__ import annotations

from dataclasses import dataclass

from async_migrate.codemods.flow import REQUEST, registry_scope_of
from async_migrate.codemods.project import FunctionId, Handler, Project
from async_migrate.codemods.vocabulary.sqlalchemy import SCOPED_SESSION_MAKERS

_DEPTH = 6


@dataclass(frozen=True, slots=True)
class LateUse:
    """A background task's use of a request-scoped registry a middleware removes before it runs."""

    task: str  # the task's qualified name
    line: int  # the handler's line adding it
    path: str  # where the use is
    at: int
    call: str  # the call as written
    registry: str  # the registry's short name
    where: str  # the registry's `path:line`
    removed: str  # the middleware's `remove()`, `path:line`


def _request_registries(project: Project) -> dict[str, str]:
    """Module-level `X = scoped_session(..., scopefunc=...)` keyed on the request: ref -> `path:line`."""
    found: dict[str, str] | None = project.derived.get("late_registry.registries")  # type: ignore[assignment]
    if found is None:
        found = {}
        for module in project.modules.values():
            if not module.scoped:
                continue
            for name, value in module.values.items():
                if value.kind != "call" or project.canonical(value.ref) not in SCOPED_SESSION_MAKERS:
                    continue
                if registry_scope_of(project, value.args, module) == REQUEST:
                    found[f"{module.name}.{name}"] = f"{module.path}:{value.line}"
        project.derived["late_registry.registries"] = found
    return found


def _registry_calls(project: Project, fid: FunctionId, registries: dict[str, str]) -> list[tuple[str, int, str, str]]:
    """Calls on a registry in `fid`: (path, line, call as written, registry ref)."""
    module, function = project.functions[fid]
    found = []
    for call in function.calls:
        if call.callee is None:
            continue
        parts = call.callee.split(".")
        for end in range(len(parts), 0, -1):
            registry = project.canonical(".".join(parts[:end]))
            if registry in registries:
                written = ".".join([registry.rsplit(".", 1)[-1], *parts[end:]])
                found.append((module.path, call.line, f"{written}()", registry))
                break
    return found


def _early_removals(project: Project, registries: dict[str, str]) -> dict[str, str]:
    """Registry ref -> `path:line` of a `remove()` a `BaseHTTPMiddleware`-style middleware (a
    `dispatch`, or a function taking `call_next`) calls on it, itself."""
    found: dict[str, str] = {}
    for handler in project.handlers:
        if handler.kind != "middleware":
            continue
        function = handler.function
        if function.name != "dispatch" and not any(p.name == "call_next" for p in function.params):
            continue
        for path, line, call, registry in _registry_calls(project, handler.id, registries):
            if call.endswith(".remove()"):
                found.setdefault(registry, f"{path}:{line}")
    return found


def late_registry_uses(project: Project, handler: Handler) -> list[LateUse]:
    """Uses of a request-scoped registry by the background tasks `handler` adds, in a task (or
    what it calls) that does not remove the registry itself, where a `BaseHTTPMiddleware`-style
    middleware removes it before the task runs."""
    calls = [c for c in handler.function.calls if c.method == "add_task" or c.callee is not None]
    tasks = [(call.line, task) for call in calls if (task := project.background_task(call)) is not None]
    if not tasks:
        return []
    registries = _request_registries(project)
    if not registries:
        return []
    removals = _early_removals(project, registries)
    if not removals:
        return []
    found = []
    for line, task in tasks:
        seen = {task}
        frontier = [task]
        uses = []
        for _ in range(_DEPTH):
            following = []
            for current in frontier:
                uses.extend(_registry_calls(project, current, registries))
                for edge in project.all_calls_from.get(current, ()):
                    if edge.callee not in seen:
                        seen.add(edge.callee)
                        following.append(edge.callee)
            frontier = following
        removed_here = {registry for _, _, call, registry in uses if call.endswith(".remove()")}
        name = project.functions[task][1].qualname
        for path, at, call, registry in uses:
            if registry in removals and registry not in removed_here:
                found.append(LateUse(
                    name, line, path, at, call, registry.rsplit(".", 1)[-1], registries[registry], removals[registry]
                ))
                break
    return found
