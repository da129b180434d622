"""AM308 blocking-middleware: an `async def` middleware does synchronous Session work on the event loop

`@app.middleware("http")` functions, a `BaseHTTPMiddleware` subclass's `dispatch` and a pure
ASGI middleware's `__call__` (registered with `add_middleware` or `Middleware(...)`) run on the
event loop for every request they see. Phase one never converts one (it awaits `call_next`, AM133):
offload the Session work or use AsyncSession. Startup, shutdown and lifespan handlers run once
and are no finding; the coroutines they schedule to run beside the requests are (AM306, AM315).
Silence with `# async-migrate: ignore[AM308] reason`.
A teardown's `ScopedSession.remove()` is Session work too, on a registry scoped to the request as
on one scoped to the thread: it closes the Session the request's `def` routes used in the
threadpool, and the pool rolls its connection back on the loop; `await
run_in_threadpool(ScopedSession.remove)` runs it in the request's context, so on the same Session.

Before:

    @app.middleware("http")
    async def audit(request, call_next):
        with SessionLocal() as s:
            s.add(Visit(path=request.url.path))
            s.commit()
        return await call_next(request)

After:

    def record_visit(path):
        with SessionLocal() as s:
            s.add(Visit(path=path))
            s.commit()

    @app.middleware("http")
    async def audit(request, call_next):
        await run_in_threadpool(record_visit, request.url.path)
        return await call_next(request)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM308",
    name="blocking-middleware",
    summary="an `async def` middleware does synchronous Session work on the event loop",
    fix=(
        "move the Session work into a plain def helper and `await run_in_threadpool(helper, ...)`, or, once "
        "phase two has built the async stack, open an AsyncSession from its async sessionmaker there and await "
        "its calls by hand (phase two rewrites routes and what they call, not middleware); the middleware "
        "itself stays async"
    ),
    doc=__doc__,
)
