"""Decorators that hand FastAPI an `async def` handler's coroutine unrun (AM313).

FastAPI reads a handler through `functools.wraps` (`inspect.unwrap`): an `async def` under a
decorator is called through the wrapper, and whatever the wrapper returns is awaited. A
synchronous wrapper (or an `async def` one returning `func(...)` without awaiting it) gets the
coroutine back before any of its statements have run, so its `try`/`except` around the call
(a retry on `IntegrityError` or `StaleDataError`, a rollback, an error turned into a 409), its
timing or its transaction no longer covers the Session work. The route still answers; the
behaviour around it is silently gone. A decorator that branches on
`iscoroutinefunction(func)` is judged on the side a coroutine takes. A project decorator whose
result the analysis cannot read (it returns what a helper builds from the function, or a
wrapper on one branch and the function on another) is unverified, never clear, unless
`async-safe-decorators` lists it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_migrate.codemods import facts
from async_migrate.codemods.phase1.needs import wrapping_decorators

if TYPE_CHECKING:
    from async_migrate.codemods.project import Handler, Project

# Wrapper shapes that return the coroutine of an `async def` without running it.
UNRUN_SHAPES = frozenset({"sync", "loop"})


def unrun_wrappers(project: Project, handler: Handler) -> list[tuple[facts.Decorator, str, str]]:
    """(decorator, shape, where it is defined) for each decorator FastAPI receives an `async def`
    route or dependency through whose wrapper returns its coroutine unrun: shape `sync` (a plain
    `def` wrapper) or `loop` (an `async def` wrapper returning `func(...)` unawaited); and shape
    `unknown` for each project decorator whose result the analysis cannot read (unverified)."""
    if not handler.function.is_async or handler.kind not in ("route", "dependency"):
        return []
    found: list[tuple[facts.Decorator, str, str]] = []
    for decorator in wrapping_decorators(project, handler):
        shape, where = project.decorator_shape(decorator, coroutine=True)
        if shape in UNRUN_SHAPES or shape == "unknown":
            found.append((decorator, shape, where))
    return found
