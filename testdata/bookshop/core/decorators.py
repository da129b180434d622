"""Small decorators applied to route handlers."""

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

logger = logging.getLogger("bookshop.handlers")

P = ParamSpec("P")
R = TypeVar("R")

F = TypeVar("F", bound=Callable[..., Any])

# Qualified names of handlers whose calls must show up in the audit trail.
AUDITED_HANDLERS: set[str] = set()

# Last observed duration (seconds) of each timed handler, exported as a metric.
HANDLER_TIMINGS: dict[str, float] = {}


def audited(func: F) -> F:
    """Register ``func`` for auditing and return it unchanged."""
    AUDITED_HANDLERS.add(func.__qualname__)
    func.__audited__ = True  # type: ignore[attr-defined]
    return func


def timed(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Record how long each call of the coroutine function ``func`` takes."""

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        start = time.perf_counter()
        result = await func(*args, **kwargs)
        elapsed = time.perf_counter() - start
        HANDLER_TIMINGS[func.__qualname__] = elapsed
        logger.debug("%s took %.1f ms", func.__qualname__, elapsed * 1000)
        return result

    return wrapper


def tagged(label: str) -> Callable[[F], F]:
    """Attach a free-form label to a handler (used by the API catalogue)."""

    def decorator(func: F) -> F:
        labels = getattr(func, "__labels__", ())
        func.__labels__ = (*labels, label)  # type: ignore[attr-defined]
        return func

    return decorator
