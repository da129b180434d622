"""Functions a repeating decorator runs again and again beside the requests.

`@repeat_every(seconds=60)` (fastapi-utils, fastapi-restful) wraps a function in a coroutine that,
once called (at start-up: `@app.on_event("startup")` above it, or `await purge()` in a lifespan),
schedules a loop calling the function every period for as long as the application serves: an
`async def` one awaited on the application's event loop, a plain `def` one in the threadpool.
Its synchronous Session work therefore blocks the requests each period, though the startup
handler it is registered as runs once: `check`'s AM315.
"""

from __future__ import annotations

from async_migrate.codemods import facts
from async_migrate.codemods.engine_work import engine_inside
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.session_work import coroutine_blocking
from async_migrate.codemods.vocabulary.fastapi import REPEATING_DECORATORS


def repeating_decorator(project: Project, function: facts.Function) -> facts.Decorator | None:
    """The repeating decorator on a function (`@repeat_every(seconds=60)`), if any."""
    return next((d for d in function.decorators if project.canonical(d.callee) in REPEATING_DECORATORS), None)


def periodic_blocking(project: Project, fid: FunctionId) -> list[str]:
    """Where an `async def` a repeating decorator runs blocks the event loop each period, with
    synchronous Session or engine work (its own, or its async helpers'): `path:line (call)`."""
    _, function = project.functions[fid]
    if not function.is_async or repeating_decorator(project, function) is None:
        return []
    return coroutine_blocking(project, fid) + engine_inside(project, fid, set())
