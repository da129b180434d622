"""AM104 already-def: the handler is already a plain `def`: FastAPI runs it in the threadpool

Phase one only touches `async def` handlers; this one is reported as `unchanged`. A sync
startup/shutdown handler (`@app.on_event("startup") def ...`) is the exception: Starlette
calls it directly on the event loop, once, before serving, so its blocking delays start-up,
not requests.

Before:

    @router.get("/books")
    def read_books(session: SessionDep): ...

After:

    @router.get("/books")
    def read_books(session: SessionDep): ...  # unchanged
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM104",
    name="already-def",
    summary="the handler is already a plain `def`: FastAPI runs it in the threadpool (a startup/shutdown handler: on the event loop, once)",
    fix="none needed",
    doc=__doc__,
)
