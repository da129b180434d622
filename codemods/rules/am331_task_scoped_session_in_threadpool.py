"""AM331 task-scoped-session-in-threadpool: a `def` route or dependency uses a `scoped_session` keyed on the asyncio task, which raises in the worker thread it runs in

FastAPI (Starlette) runs a plain `def` route or dependency in its threadpool. A worker thread
runs no event loop, so a `scoped_session` whose `scopefunc=` is `asyncio.current_task` (named
directly, through a lambda, or through a project function calling it, `def scope(): return
id(asyncio.current_task())`) raises `RuntimeError: no running event loop` at the first use of
the registry there: every request the handler serves fails with a 500. Phase one never makes
such a handler `def` (AM132); this finds one that is `def` already, written so or converted by
hand, itself or through the helpers it calls. A handler that receives the Session from an
`async def` dependency is not one: the registry was asked on the event loop.
Silence one handler with `# async-migrate: ignore[AM331] reason`.

Before:

    ScopedSession = scoped_session(SessionLocal, scopefunc=asyncio.current_task)

    @router.get("/pets/{id}")
    def read_pet(id: int):
        return ScopedSession.get(Pet, id)

After:

    request_scope: ContextVar[object] = ContextVar("request_scope")
    ScopedSession = scoped_session(SessionLocal, scopefunc=request_scope.get)

    @router.get("/pets/{id}")
    def read_pet(id: int):
        return ScopedSession.get(Pet, id)
"""

from async_migrate.codemods.rules.base import Rule

RULE = Rule(
    code="AM331",
    name="task-scoped-session-in-threadpool",
    summary=(
        "a `def` route or dependency uses a `scoped_session` keyed on the asyncio task: in the threadpool "
        "`asyncio.current_task()` raises RuntimeError and every request fails"
    ),
    fix=(
        "scope the registry to the request (`scopefunc=` a context variable an `async def` dependency or "
        "middleware sets per request), or take the Session from a dependency opening one per request"
    ),
    doc=__doc__,
)
