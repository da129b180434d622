"""AM313 wrapper-returns-coroutine-unrun: an `async def` handler on an AsyncSession is wrapped by a decorator that hands back its coroutine before running it

FastAPI reads a handler through `functools.wraps` and awaits what the wrapper returns. A
synchronous wrapper calls the `async def`, gets its coroutine back unrun and returns it at
once: its `try`/`except` around the call (a retry on `IntegrityError` or `StaleDataError`, a
`rollback()`, an error turned into a 409), its timing or its transaction no longer covers the
Session work. The route still answers on the happy path; what the decorator did is silently
gone. The same holds for an `async def` wrapper that returns `func(*args)` without awaiting
it. A decorator that branches on `inspect.iscoroutinefunction(func)` is judged on the side a
coroutine takes, so an async-aware decorator passes. A project decorator that registers or
logs the function before handing it to another (`REGISTRY.append(fn); return timed(fn)`, or
`wrapped = timed(fn); ...; return wrapped`) wraps as that one. One whose result the analysis
cannot read (a helper builds it, one branch returns a wrapper and another the function, a
cycle of delegations) is reported unverified, unless `async-safe-decorators` lists it.
Silence one handler with `# async-migrate: ignore[AM313] reason`.

Before:

    def retry_on_conflict(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for attempt in range(3):
                try:
                    return func(*args, **kwargs)
                except StaleDataError:
                    continue
            raise HTTPException(409)
        return wrapper

    @router.put("/items/{item_id}")
    @retry_on_conflict
    async def rename(item_id: int, db: AsyncSession = Depends(get_async_db)): ...

After:

    def retry_on_conflict(func):
        @functools.wraps(func)
        async def wrapper(*args, **kwargs):
            for attempt in range(3):
                try:
                    return await func(*args, **kwargs)
                except StaleDataError:
                    continue
            raise HTTPException(409)
        return wrapper
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM313",
    name="wrapper-returns-coroutine-unrun",
    summary="an `async def` route or dependency on an AsyncSession is wrapped by a decorator whose wrapper returns "
    "its coroutine unrun, so what the decorator does around the call (retry, rollback, error mapping) never "
    "covers the Session work",
    fix="give the decorator an `async def` wrapper that awaits the function when "
    "`inspect.iscoroutinefunction(func)`, or move the Session work into a helper the decorator does cover",
    doc=__doc__,
)
