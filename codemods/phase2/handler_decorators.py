"""Decorators wrapping a `def` route or dependency that phase two would make `async def`.

FastAPI reads the function under a `functools.wraps` wrapper (`inspect.unwrap`): once the
route is a coroutine function it calls the wrapper and awaits what it returns. A synchronous
wrapper then hands back the coroutine unrun, so its `try`/`except` (a retry on
`IntegrityError` / `StaleDataError` with `db.rollback()`, an error turned into a 409), its
timing or its cache no longer covers the Session work: the happy path still answers, the
behaviour around it is silently gone. Phase one judges the decorators of the routes that are
already `async def`; this judges those phase two moves onto the event loop, on the side of an
`iscoroutinefunction(func)` branch a coroutine takes.
"""

from __future__ import annotations

from async_migrate.codemods.phase1.needs import wrapping_decorators
from async_migrate.codemods.project import FunctionId, Project


def blockers(project: Project, fid: FunctionId) -> list[tuple[int, str]]:
    """(line, message) for each decorator FastAPI receives a `def` handler through that phase two
    cannot show awaits a coroutine function."""
    handler = project.handler_index.get(fid)
    if handler is None or handler.function.is_async:
        return []
    found: list[tuple[int, str]] = []
    for decorator in wrapping_decorators(project, handler):
        shape, where = project.decorator_shape(decorator, coroutine=True)
        if shape in ("passthrough", "coroutine"):
            # FastAPI calls the function itself (a marker, a registry), or an `async def` wrapper
            # awaiting it: as phase one, which converts such routes the other way
            continue
        if shape == "sync":
            how = (f"its synchronous wrapper ({where}) would get the coroutine back unrun and return it, so "
                   "what it does around the call (catching IntegrityError or StaleDataError, rolling back "
                   "and retrying, timing, caching) would no longer cover the Session work")
        elif shape == "loop":
            how = (f"its `async def` wrapper ({where}) calls the function without awaiting it, and would "
                   "return the coroutine unrun")
        else:
            how = (f"the tool cannot tell whether its wrapper ({where}) awaits a coroutine function; a "
                   "synchronous one would return the coroutine unrun, outside what it does around the call")
        listed = project.canonical(decorator.callee)
        found.append((decorator.line, (
            f"`{handler.function.name}` is wrapped by `@{decorator.text}` and would become `async def`: {how}; "
            "make the decorator async-aware (an `async def` wrapper awaiting the function when "
            "`inspect.iscoroutinefunction(func)`) and list it"
            + (f' as "{listed}"' if listed else "")
            + " under `async-safe-decorators`, or move the "
            "Session work into a helper the route calls outside it, then rerun phase two"
        )))
    return found
