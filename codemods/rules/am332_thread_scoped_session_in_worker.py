"""AM332 thread-scoped-session-in-worker: work running on a worker thread uses a thread-local `scoped_session` and never removes it there

A `scoped_session(SessionLocal)` without `scopefunc=` gives each thread its own Session. The
`remove()` an HTTP middleware (or an `async def` dependency) calls after each request runs on the
event loop thread and closes that thread's Session only. A plain `def` route or dependency (FastAPI
runs it in its threadpool), a helper an `async def` route (or a startup handler, a lifespan above
its `yield`: the worker keeps what it left into the requests it serves later; a shutdown handler's,
or a lifespan's below its `yield`, runs after the last request) hands to `asyncio.to_thread(...)`,
`run_in_threadpool(...)` or `loop.run_in_executor(None, ...)`, and a plain `def` background task
(`background_tasks.add_task(log_event, kind)`, which Starlette runs in its threadpool after the
response) each get their worker thread's
Session, which nothing removes: it lives on from one request to the next, and after a read with no
commit or rollback it keeps its transaction and its connection. Connections pile up "idle in
transaction" (holding locks, seeing an old snapshot), the pool runs dry, and then every checkout
waits for the pool's timeout, the event loop's own among them. Nothing blocks the loop at first,
so no other finding says so. Phase one never moves such work to a thread (AM132); this finds the
work already there. The registry's own methods handed to a worker count the same: `await
run_in_threadpool(db_session.remove)` in a middleware empties the worker's registry, not the loop
thread's, and `to_thread(db_session.commit)` commits the worker's Session, not the one the route
added to.

The same work on a registry keyed on the asyncio task raises in the worker thread (AM331 for a
`def` route or dependency); on the Session a dependency hands out from the registry, or a registry
keyed on a context variable every request shares a value of, several threads use one Session at
once; offloaded work and background tasks on a task-keyed registry are reported here. Work that
calls the registry's `remove()` itself however it is left (in a `finally` around the work, or in
the `finally` around the `yield` of a `@contextmanager` the work runs in) is not reported; a
`remove()` an exception or early return skips is (a failed request leaves the Session, often
mid-transaction, to the next request on that thread). Nor is work closing the
Session it takes from the registry on every path (`session = ScopedSession()`, then
`session.close()` in a `finally`, or a `@contextmanager` helper doing so, Airflow's
`create_session()`): the registry keeps that
Session, but closed, with no transaction or connection. A close some path skips (only after a
commit) is still reported.
Silence one handler with `# async-migrate: ignore[AM332] reason`.

Before:

    db_session = scoped_session(SessionLocal)

    def _count_users():
        return db_session.query(User).count()

    @router.get("/reports/users")
    async def users_report():
        return {"users": await asyncio.to_thread(_count_users)}

After:

    def _count_users():
        try:
            return db_session.query(User).count()
        finally:
            db_session.remove()  # the worker thread's own Session
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM332",
    name="thread-scoped-session-in-worker",
    summary=(
        "work running on a worker thread (a `def` route or dependency, `to_thread`/`run_in_threadpool`, a `def` "
        "background task) uses a thread-local `scoped_session` that nothing removes on that thread"
    ),
    fix=(
        "call the registry's `remove()` in a `finally` of the work the worker thread runs, or scope the registry "
        "to the request (`scopefunc=` a context variable set per request), or take the Session from a dependency "
        "opening one per request"
    ),
    doc=__doc__,
)
