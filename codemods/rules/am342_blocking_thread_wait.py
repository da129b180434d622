"""AM342 blocking-thread-wait: an `async def` handler waits on another thread or process on the event loop

`pool.submit(recount, item.id).result(timeout=30)` in an `async def` route (or a plain helper it
calls in place, or a coroutine it awaits) holds the event loop until the worker's job ends: every
other request waits, and a job that needs the loop (`anyio.from_thread`) never ends. So do
`fut.result()` and `fut.exception()` on what an executor's `submit` returned,
`concurrent.futures.wait` and `as_completed`, `thread.join()`, `event.wait()` on a
`threading.Event`, `lock.acquire()` and `with lock:` on a `threading` lock, `q.get()` on a
`queue.Queue` and `q.put()` on a bounded one, `with ThreadPoolExecutor() as pool:`, and their
`multiprocessing` kind, on objects the analysis types (built by a call of the class, a parameter
annotated with it, what `submit(...)` returns). None of it is Session work: the handler is
reported whatever its Session does. Awaited (`await asyncio.wrap_future(fut)`, `await
run_in_threadpool(fut.result)`), a wait is none; `put_nowait()`, `get(block=False)` and `put()` on
a queue with no `maxsize` never wait.
Silence one handler with `# async-migrate: ignore[AM342] reason`.

Before:

    @router.post("/items/{name}/recount")
    async def recount_item(name: str, db: async_session_dependency):
        item = await create(db, name)
        qty = pool.submit(recount, item.id).result(timeout=30)

After:

    @router.post("/items/{name}/recount")
    async def recount_item(name: str, db: async_session_dependency):
        item = await create(db, name)
        qty = await asyncio.wrap_future(pool.submit(recount, item.id))
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM342",
    name="blocking-thread-wait",
    summary="an `async def` handler waits on another thread or process (`future.result()`, `thread.join()`, a lock, a queue) on the event loop",
    fix=(
        "await the wait (`await asyncio.wrap_future(future)`, `await run_in_threadpool(...)`), or make "
        "the handler a plain `def`"
    ),
    doc=__doc__,
)
