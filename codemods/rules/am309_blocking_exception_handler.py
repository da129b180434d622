"""AM309 blocking-exception-handler: an `async def` exception handler does synchronous Session work on the event loop

`@app.exception_handler(Exc)`, `add_exception_handler(Exc, handler)` and `exception_handlers={...}`
handlers run on the event loop for every request that raises. Starlette runs a plain `def`
exception handler in the threadpool (the 500 handler too), so phase one makes one that awaits
nothing a `def`, as it does a route; one that awaits (`await request.body()`) or must stay a
coroutine function (another handler awaits it) stays, and its Session work is this finding.
Silence with `# async-migrate: ignore[AM309] reason`.

Before:

    @app.exception_handler(ValueError)
    async def log_error(request, exc):
        with SessionLocal() as s:
            s.add(ErrorLog(text=str(exc)))
            s.commit()
        return JSONResponse({"detail": str(exc)}, status_code=400)

After:

    @app.exception_handler(ValueError)
    def log_error(request, exc):
        with SessionLocal() as s:
            s.add(ErrorLog(text=str(exc)))
            s.commit()
        return JSONResponse({"detail": str(exc)}, status_code=400)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM309",
    name="blocking-exception-handler",
    summary="an `async def` exception handler does synchronous Session work on the event loop",
    fix=(
        "run `async-migrate phase1`, which makes it a plain def when it awaits nothing (Starlette runs it in the "
        "threadpool), else move the Session work into a plain def helper and `await run_in_threadpool(helper, ...)`"
    ),
    doc=__doc__,
)
