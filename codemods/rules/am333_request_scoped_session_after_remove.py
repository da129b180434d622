"""AM333 request-scoped-session-after-remove: a background task uses a request-scoped `scoped_session` that a `BaseHTTPMiddleware` removed before the task runs

A registry keyed on the request (`scoped_session(SessionLocal, scopefunc=request_scope.get)`)
is emptied by the `remove()` of the middleware that sets its key. A `BaseHTTPMiddleware` (a
`dispatch` method, or an `@app.middleware("http")` function) has the response from `call_next`
before the application runs the response's background tasks, so its `remove()` comes first. The
task runs in the request's context, key and all: the registry makes a new Session under that key,
and nothing removes it. Every such request leaves one Session in the registry for good (its
identity map, and after a read with no commit its connection too). A pure ASGI middleware awaits
the application, background tasks included, before its own `remove()`; a task that removes the
registry itself is fine. Silence one handler with `# async-migrate: ignore[AM333] reason`.

Before:

    def log_event(kind: str):
        ctx_session.add(Event(kind=kind))
        ctx_session.commit()

    @router.post("/events/later")
    async def add_later(kind: str, tasks: BackgroundTasks):
        tasks.add_task(log_event, kind)

After:

    def log_event(kind: str):
        try:
            ctx_session.add(Event(kind=kind))
            ctx_session.commit()
        finally:
            ctx_session.remove()  # the Session the task made under the request's key
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM333",
    name="request-scoped-session-after-remove",
    summary=(
        "a background task uses a request-scoped `scoped_session` after a `BaseHTTPMiddleware` removed it: "
        "the Session it makes under the request's key is never removed"
    ),
    fix=(
        "call the registry's `remove()` in a `finally` of the task, or hand the task what it needs and have it open "
        "a Session of its own (`with SessionLocal() as db:`)"
    ),
    doc=__doc__,
)
