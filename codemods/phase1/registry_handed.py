"""The Session of a `scoped_session` not scoped to the request, handed to routes by code that
runs once per request: returned or yielded by a dependency (`db = db_session(); yield db`), or
kept on the request's state by a middleware or dependency (`request.state.db = RequestSession()`).

On the thread that runs that code, every request it serves gets the thread's one Session (an
`async def` middleware: the event loop thread, so every request). A route reading it as `def`
would use that Session from several threadpool workers at once (AM132). Where the Session is
made right there (`SessionLocal()`) each request has its own, and nothing here applies.
"""

from __future__ import annotations

from typing import cast

from async_migrate.codemods import facts
from async_migrate.codemods.flow import REGISTRY, REQUEST
from async_migrate.codemods.project import FunctionId, Project

_STATE = "request.state."


def registry_of(project: Project, fid: FunctionId, expression: str) -> tuple[str | None, str] | None:
    """(scope, `path:line`) of the registry whose Session `expression` is, in `fid`: a call of the
    registry (`db_session()`), or a local name bound to one (`db = db_session()`); None when it
    is no such call or the registry is scoped to the request. A None scope: unreadable."""
    _, function = project.functions[fid]
    candidates = [expression]
    if expression.startswith("$") and "." not in expression:
        candidates = [b.expr for b in function.bindings if b.name == expression[1:] and not b.entered]
    for candidate in candidates:
        if candidate == facts.UNSPELLED:
            continue
        registry = candidate[:-2] if candidate.endswith("()") else candidate
        for value in project.flow.evaluate(fid, registry):
            if value.kind != REGISTRY:
                continue
            scope, where = cast("tuple[str | None, str]", value.target)
            if scope != REQUEST:
                return scope, where
    return None


def state_registry(project: Project, origin: str) -> tuple[str | None, str, str, int] | None:
    """For a Session read from `request.state.<attribute>` (its flow origin): (scope, registry's
    `path:line`, path and line of the assignment) when a middleware or dependency keeps there the
    Session of a registry not scoped to the request; None otherwise."""
    if not origin.startswith(_STATE):
        return None
    attribute = origin.removeprefix(_STATE)
    table: dict[str, tuple[str | None, str, str, int] | None] = project.derived.setdefault(  # type: ignore[assignment]
        "registry_handed.state", {}
    )
    if attribute not in table:
        table[attribute] = None
        for fid, head, expression, line in project.flow.state_assignments().get(attribute, []):
            if not head.startswith("$") or "." in head:
                continue  # `app.state`, `request.app.state`: not the request's state
            found = registry_of(project, fid, expression)
            if found is not None:
                table[attribute] = (*found, project.functions[fid][0].path, line)
                break
    return table[attribute]
