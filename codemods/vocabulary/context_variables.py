"""Libraries keeping per-request values in context variables of their own: structlog's bound
log context, asgi-correlation-id's request id, OpenTelemetry's current context.

FastAPI runs a `def` route or dependency in a worker thread, in a copy of the request's context:
what these calls set there stays in that copy, so the middleware and the log lines after it never
see it (AM134), as for a project `ContextVar.set`.
"""

from __future__ import annotations

# Functions setting (or clearing) what a library's context variable holds in the calling context.
# `bound_contextvars` binds for a block and restores after it: still a write where a `def`
# dependency binds around its `yield` for the route.
SETTERS = frozenset({
    *(f"structlog.contextvars.{name}" for name in (
        "bind_contextvars", "bound_contextvars", "clear_contextvars", "unbind_contextvars", "reset_contextvars",
    )),
    "opentelemetry.context.attach", "opentelemetry.context.detach",
})
# A library's module-level `ContextVar`s, which the project sets with `.set()` / `.reset()`
# (`correlation_id.set(request_id)`).
VARIABLES = frozenset({
    f"asgi_correlation_id{module}.{name}"
    for module in ("", ".context") for name in ("correlation_id", "celery_current_id", "celery_parent_id")
})
