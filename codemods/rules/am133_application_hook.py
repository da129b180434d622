"""AM133 application-hook: middleware and lifecycle handlers stay `async def`

An `async def` middleware (`@app.middleware("http")`, a `BaseHTTPMiddleware.dispatch`, a pure
ASGI `__call__`) awaits `call_next` or the wrapped application, so it cannot become a `def`.
Phase one leaves startup/shutdown/lifespan handlers as they are too: Starlette calls a plain
def startup handler on the event loop all the same. Middleware runs on the event loop for every
request it sees: its synchronous Session work blocks it (`check` reports AM308). A startup or
shutdown handler runs once, before the first request or after the last: its Session work delays
startup or shutdown and blocks no request, so `check` does not report it (one that
`@repeat_every` runs each period is decided as a route: AM315). An exception handler is decided
as a route too: Starlette runs a plain def one in the threadpool (AM309).

Before:

    @app.middleware("http")
    async def api_key(request, call_next):
        with SessionLocal() as s:
            known = s.scalar(select(Key).where(Key.value == request.headers["x-key"]))
        return await call_next(request)

After:

    def find_key(value):
        with SessionLocal() as s:
            return s.scalar(select(Key).where(Key.value == value))

    @app.middleware("http")
    async def api_key(request, call_next):
        known = await run_in_threadpool(find_key, request.headers["x-key"])
        return await call_next(request)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM133",
    name="application-hook",
    summary="middleware and lifecycle handlers stay `async def`",
    fix=(
        "move their Session work into a plain def helper and `await run_in_threadpool(helper, ...)`, "
        "or open an AsyncSession from the async sessionmaker phase two builds and await its calls by hand "
        "(phase two does not rewrite these hooks)"
    ),
    doc=__doc__,
)
