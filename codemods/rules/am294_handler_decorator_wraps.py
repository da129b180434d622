"""AM294 handler-decorator-wraps: a `def` route or dependency phase two would make `async def` is wrapped by a decorator that may not await it

FastAPI unwraps a `functools.wraps` wrapper to decide how to call a route: once phase two
makes the route `async def`, FastAPI calls the wrapper and awaits what it returns. A
synchronous wrapper returns the coroutine without running it, so everything it does around
the call stops covering the Session work: a retry loop catching `IntegrityError` or
`StaleDataError` and calling `db.rollback()` never sees the error (a 500 where the route
retried or answered 409), a timer measures nothing, a cache stores a coroutine. The happy
path still answers, which is why nothing in the tests shows it. The route stays on the
synchronous Session until the decorator awaits a coroutine function (and is listed under
`async-safe-decorators`; `safe-decorators` says only that it works with a plain function) or the
Session work moves out from under it.

Before:

    def retry_on_conflict(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for _ in range(3):
                try:
                    return fn(*args, **kwargs)
                except StaleDataError:
                    kwargs["db"].rollback()
            raise HTTPException(status_code=409)
        return wrapper

    @router.post("/credit")
    @retry_on_conflict
    def credit(body: CreditIn, db: Session = Depends(get_db)): ...

After:

    def retry_on_conflict(fn):
        @functools.wraps(fn)
        async def wrapper(*args, **kwargs):
            for _ in range(3):
                try:
                    return await fn(*args, **kwargs)
                except StaleDataError:
                    await kwargs["db"].rollback()
            raise HTTPException(status_code=409)
        return wrapper

    @router.post("/credit")
    @retry_on_conflict
    async def credit(body: CreditIn, db: AsyncSession = Depends(get_async_db_session)): ...
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM294",
    name="handler-decorator-wraps",
    summary=(
        "a `def` route or dependency phase two would make `async def` is wrapped by a decorator "
        "whose wrapper may return the coroutine unawaited"
    ),
    fix=(
        "make the decorator await a coroutine function and list it under `async-safe-decorators`, or move the "
        "Session work out from under it, then rerun phase two"
    ),
    doc=__doc__,
)
