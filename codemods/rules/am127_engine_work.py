"""AM127 engine-work: an `async def` route or dependency does synchronous engine (Connection) work

`with engine.connect() as conn: conn.execute(...)`, `engine.begin()`, `engine.raw_connection()`
on a synchronous engine take a pooled connection and run statements: blocking IO, on the
event loop in an `async def`. So does every statement on a synchronous `Connection` the handler
is handed: `conn = Depends(get_conn)` where `get_conn` yields `engine.begin()`'s, a repository
built on it, a helper given it. It is not Session work, and used to be reported as "no
synchronous Session work". Phase one converts such a handler to `def` when it never awaits
(FastAPI then runs it in the threadpool), and keeps it, with this reason, when it awaits.

Before:

    @router.get("/count")
    async def count_users():
        with engine.connect() as conn:
            return {"n": conn.execute(text("select count(*) from users")).scalar()}

After:

    @router.get("/count")
    def count_users():
        with engine.connect() as conn:
            return {"n": conn.execute(text("select count(*) from users")).scalar()}
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM127",
    name="engine-work",
    summary="an `async def` handler does synchronous engine (Connection) work",
    fix="as `def` it runs in the threadpool (phase one converts it when it never awaits); otherwise "
    "offload the engine work with `await run_in_threadpool(...)`, or use the async engine",
    doc=__doc__,
)
