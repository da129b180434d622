"""AM335 sync-session-in-concurrent-threads: calls offloaded to worker threads on one synchronous Session may run at the same time

A synchronous `Session` is not thread-safe. An `async def` handler that takes its Session work
off the event loop one call at a time (`await run_in_threadpool(count, db)`) is fine; two such
calls running at once use one Session from two threads: IllegalStateChangeError, "This session
is provisioning a new connection; concurrent operations are not permitted", or interleaved
transactions. `check` finds the handler (or a project coroutine it awaits with the Session)
that hands two or more calls running in worker threads (`run_in_threadpool`, `asyncio.to_thread`,
`loop.run_in_executor`, `anyio.to_thread.run_sync`) of functions working on the same Session (or
of the Session's own bound methods, `to_thread(db.scalar, q)`) to
one `asyncio.gather()`, `asyncio.wait()` or task group (directly, through a list built first,
or made in a loop or comprehension), or that starts one as a task while other work on that
Session runs before the task is joined (another offload, awaited or scheduled, or the Session's
own method on the loop; a task group's `start_soon(to_thread.run_sync, f, db)`, or the future
`loop.run_in_executor(...)` returns, which runs from that call until awaited). The work may also
be called in a lambda the thread runs, or be a bound method of one local object holding the
Session (`to_thread.run_sync(repo.save, x)`). Offloads awaited one after another, and offloads
each on a Session of its own, are no finding. Phase one's `--offload-mixed` offloads no call that
would run beside such a task (offloaded, or a coroutine working on the Session on the loop) while
it still runs. Silence with `# async-migrate: ignore[AM335] reason`.

Before:

    @router.get("/customers/{id}/summary")
    async def summary(id: int, db: SessionDep):
        count, total = await asyncio.gather(
            run_in_threadpool(order_count, db, id), run_in_threadpool(order_total, db, id)
        )

After:

    def _summary(db: Session, id: int) -> tuple[int, int]:
        return order_count(db, id), order_total(db, id)  # one thread, one after another

    @router.get("/customers/{id}/summary")
    async def summary(id: int, db: SessionDep):
        count, total = await run_in_threadpool(_summary, db, id)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM335",
    name="sync-session-in-concurrent-threads",
    summary="calls run in worker threads on one synchronous Session may run at the same time (gather, tasks, "
    "a task group): a Session is not thread-safe",
    fix="run that Session work one call after another in one plain def helper awaited as "
    "`await run_in_threadpool(helper, ...)`, or give each concurrent call a Session of its own",
    doc=__doc__,
)
