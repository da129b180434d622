"""AM134 context-variable-set: an `async def` handler sets a `ContextVar`

FastAPI runs a `def` route or dependency in a worker thread, in a copy of the request's
context: a `ContextVar` set there stays in that copy. The route, the other dependencies and
the middleware never see the value, and `var.reset(token)` in another context raises
`ValueError`. A handler that sets or resets a context variable (directly, or through the
plain helpers it calls) stays `async def`; a route whose every `token = var.set(x)` is
undone by its own `var.reset(token)` converts: nothing after it sees the value either way.
A library's context variables count alike: structlog's `bind_contextvars(...)` (and
`bound_contextvars`, `unbind_contextvars`, `clear_contextvars`), asgi-correlation-id's
`correlation_id.set(...)`, OpenTelemetry's `context.attach(...)`
(`codemods/vocabulary/context_variables.py`).

Before:

    request_session: ContextVar[Session] = ContextVar("request_session")

    async def bind_session(session: SessionDep):
        token = request_session.set(session)
        yield
        request_session.reset(token)

After:

    async def bind_session(session: SessionDep):  # kept: a def would set it in a worker thread
        token = request_session.set(session)
        yield
        request_session.reset(token)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM134",
    name="context-variable-set",
    summary="an `async def` handler sets a ContextVar, which a `def` would set in a worker thread's copy of the context",
    fix="keep it async and offload the Session work (`await run_in_threadpool(...)`)",
    doc=__doc__,
)
