"""AM141 thread-local-state: an `async def` handler reads or sets thread-local state

A `threading.local()` object holds a value per thread. An `async def` route, dependency or
middleware runs on the event loop's thread, and so does every other coroutine of the request:
what a middleware sets on `_local.tenant` there, the route reads back. As `def`, FastAPI runs it
in a worker thread of the threadpool, which sees that thread's values instead: an attribute the
loop's thread set is missing there (AttributeError, or the `getattr(..., default)` default), or
left over from another request that thread served, and what the handler sets never reaches the
code on the loop. A handler that uses a module-level `threading.local()` object (or an instance
of a project subclass of `threading.local`), itself or through a plain `def` helper it calls in
place, stays `async def`.

Before:

    _local = threading.local()

    @app.middleware("http")
    async def tenant(request, call_next):
        _local.tenant = request.headers.get("x-tenant", "public")
        return await call_next(request)

    @app.get("/items")
    async def items(db: Session = Depends(get_db)):
        return {"tenant": _local.tenant, "items": db.scalars(select(Item)).all()}

After:

    @app.get("/items")
    async def items(db: Session = Depends(get_db)):  # kept: a def would read a worker thread's `_local`
        tenant = _local.tenant
        items = await run_in_threadpool(lambda: db.scalars(select(Item)).all())
        return {"tenant": tenant, "items": items}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM141",
    name="thread-local-state",
    summary="an `async def` handler uses `threading.local()` state, which a `def` would read in a worker thread",
    fix="keep it async and offload the Session work (`await run_in_threadpool(...)`), or carry the value in a "
    "ContextVar or on `request.state`",
    doc=__doc__,
)
