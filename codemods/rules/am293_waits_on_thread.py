"""AM293 waits-on-thread: a plain function phase two makes `async def` waits on another thread or process

`pool.submit(recount, item.id).result(timeout=30)` in a `def` route (or a plain helper it calls in
place) holds one worker thread where FastAPI runs it. Made `async def`, it holds the event loop:
every other request waits for the whole job, and a job that needs the loop (`anyio.from_thread`)
never ends. So do `fut.result()` and `fut.exception()` on what an executor's `submit` returned,
`concurrent.futures.wait` and `as_completed`, `thread.join()`, `event.wait()` on a
`threading.Event`, `lock.acquire()` and `with lock:` on a `threading` lock, `q.get()` on a
`queue.Queue` and `q.put()` on a bounded one (`maxsize`), `with ThreadPoolExecutor() as pool:`
(its end waits for the jobs), and their `multiprocessing` kind. Only objects the analysis types are
read: an instance built by a call of the class (module-level, local, or a `self.` attribute), a
parameter annotated with the class, what `submit(...)` returns. `put_nowait()`, `get(block=False)`
and a `put()` on a queue with no `maxsize` never wait. The route is blocked, naming the wait and
the helpers on the way to it; it stays `def`, in the threadpool.

Before:

    @router.post("/items/{name}/recount")
    def recount_item(name: str, db: session_dependency):
        item = create(db, name)
        qty = pool.submit(recount, item.id).result(timeout=30)
        return {"id": item.id, "qty": qty}

After:

    @router.post("/items/{name}/recount")
    async def recount_item(name: str, db: async_session_dependency):
        item = await create(db, name)
        qty = await asyncio.wrap_future(pool.submit(recount, item.id))
        return {"id": item.id, "qty": qty}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM293",
    name="waits-on-thread",
    summary=(
        "a plain function phase two makes `async def` waits on another thread or process "
        "(`future.result()`, `thread.join()`, a lock, a queue's `get()`)"
    ),
    fix=(
        "leave it `def`; or await the wait by hand (`await asyncio.wrap_future(future)`, "
        "`await run_in_threadpool(...)`), then run phase two again"
    ),
    doc=__doc__,
)
