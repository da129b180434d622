"""AM336 shared-connection-in-threadpool: a `def` handler uses one database connection the whole process shares

FastAPI runs a `def` route or dependency in its threadpool: concurrent requests run it at once,
each on a worker thread. A connection made once for every request (a module global
`conn = sqlite3.connect(...)` or any DB-API driver's `connect`, `engine.connect()`,
`engine.raw_connection()`, a cursor of one, a class attribute, `self.conn` an instance the process
keeps opens, `app.state.conn` set in the lifespan, what an `@lru_cache` dependency returns) is then used from several threads: a sqlite3
connection made without `check_same_thread=False` raises `sqlite3.ProgrammingError` on every call
from a thread other than the one that made it (every request fails), and no connection (sqlite3
with `check_same_thread=False`, psycopg, PyMySQL, a SQLAlchemy `Connection`, ...) is safe from
several threads at once: one transaction for all, statements interleave, one request commits or
rolls back another's work. Reported for every `def` route or dependency, phase one's output or
written so: the threadpool runs them concurrently whoever wrote them. So is an `async def`
handler handing work on such a connection to a worker thread (`await run_in_threadpool(count)`,
`asyncio.to_thread(conn.execute, sql)`, a lambda, `loop.run_in_executor(None, f)`): each request
runs it on a thread of its own, several at once; on the event loop's thread they take turns. An
executor of the project's own (`run_in_executor(executor, f)`, perhaps one thread kept for the
connection) counts only for a sqlite3 connection refusing every other thread. Phase one never makes
such a handler `def` (AM144). A connection opened per request (`with engine.connect() as conn:`) and an
Engine are fine; an imported name the analysis cannot resolve is not reported (as AM324 does not
report an unresolved Session). Silence one handler with `# async-migrate: ignore[AM336] reason`.

Before:

    _shared_conn = engine.connect()

    @router.get("/stats")
    def stats():
        return {"n": _shared_conn.execute(text("select count(*) from products")).scalar_one()}

After:

    @router.get("/stats")
    def stats():
        with engine.connect() as conn:  # a connection from the pool, per request
            return {"n": conn.execute(text("select count(*) from products")).scalar_one()}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM336",
    name="shared-connection-in-threadpool",
    summary="a `def` handler (or work an `async def` handler hands to a worker thread) uses one database "
    "connection the whole process shares: threadpool threads use it at once (and a sqlite3 one refuses them)",
    fix="open a connection per request (`with engine.connect() as conn:`, or a dependency yielding the "
    "driver's `connect()` and closing it), or keep the handler `async def` until it has one",
    doc=__doc__,
)
