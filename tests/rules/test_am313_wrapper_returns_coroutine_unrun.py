"""AM313 wrapper-returns-coroutine-unrun: `check` flags an `async def` route on an AsyncSession
under a decorator whose wrapper returns the coroutine unrun (a plain `def` wrapper, an `async
def` one returning it unawaited), judged on the side of an `iscoroutinefunction` branch a
coroutine takes; an awaiting wrapper, a marker decorator or a route without an AsyncSession is
not flagged."""

from __future__ import annotations

DECORATORS = """
import functools
import inspect

from fastapi import HTTPException
from sqlalchemy.orm.exc import StaleDataError


def retry_on_conflict(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for _ in range(3):
            try:
                return func(*args, **kwargs)
            except StaleDataError:
                continue
        raise HTTPException(409)
    return wrapper


def passthrough_async(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper


def retrying(attempts):
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for _ in range(attempts):
                try:
                    return func(*args, **kwargs)
                except StaleDataError:
                    continue
            raise HTTPException(409)
        return wrapper
    return decorate


def aware(func):
    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def awaiting(*args, **kwargs):
            try:
                return await func(*args, **kwargs)
            except StaleDataError:
                raise HTTPException(409)
        return awaiting

    @functools.wraps(func)
    def plain(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except StaleDataError:
            raise HTTPException(409)
    return plain


def plain_only(func):
    if not inspect.iscoroutinefunction(func):
        return func

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except StaleDataError:
            raise HTTPException(409)
    return wrapper


class Retrying:
    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except StaleDataError:
                raise HTTPException(409)
        return wrapper


class Awaiting:
    def __call__(self, func):
        @functools.wraps(func)
        async def wrapper(*args, **kwargs):
            try:
                return await func(*args, **kwargs)
            except StaleDataError:
                raise HTTPException(409)
        return wrapper


retry_instance = Retrying()
awaiting_instance = Awaiting()
retry_three = retrying(3)


TAGS = []


def tagged(func):
    TAGS.append(func)
    return func
"""
ROUTES = """
from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.retry import (
    aware, awaiting_instance, passthrough_async, plain_only, retry_instance, retry_on_conflict, retry_three, retrying,
    tagged,
)


async def get_async_db() -> AsyncSession: ...


@router.put("/sync_wrapped")
@retry_on_conflict
async def sync_wrapped(db: AsyncSession = Depends(get_async_db)):
    await db.execute(text("update items set n = n + 1"))
    await db.commit()


@router.put("/factory_wrapped")
@retrying(3)
async def factory_wrapped(db: AsyncSession = Depends(get_async_db)):
    await db.execute(text("update items set n = n + 1"))


@router.put("/unawaited_wrapper")
@passthrough_async
async def unawaited_wrapper(db: AsyncSession = Depends(get_async_db)):
    await db.execute(text("update items set n = n + 1"))


@router.put("/coroutine_branch")
@plain_only
async def coroutine_branch(db: AsyncSession = Depends(get_async_db)):
    await db.execute(text("update items set n = n + 1"))


@router.put("/aware_wrapped")
@aware
async def aware_wrapped(db: AsyncSession = Depends(get_async_db)):
    await db.execute(text("update items set n = n + 1"))


@router.put("/marked")
@tagged
async def marked(db: AsyncSession = Depends(get_async_db)):
    await db.execute(text("update items set n = n + 1"))


@retry_on_conflict
@router.put("/above_route")
async def above_route(db: AsyncSession = Depends(get_async_db)):
    await db.execute(text("update items set n = n + 1"))


@router.put("/instance_wrapped")
@retry_instance
async def instance_wrapped(db: AsyncSession = Depends(get_async_db)):
    await db.execute(text("update items set n = n + 1"))


@router.put("/alias_wrapped")
@retry_three
async def alias_wrapped(db: AsyncSession = Depends(get_async_db)):
    await db.execute(text("update items set n = n + 1"))


@router.put("/awaiting_instance_wrapped")
@awaiting_instance
async def awaiting_instance_wrapped(db: AsyncSession = Depends(get_async_db)):
    await db.execute(text("update items set n = n + 1"))


@router.get("/no_session")
@retry_on_conflict
async def no_session():
    return {"ok": True}
"""
FILES = {"core/retry.py": DECORATORS}


def test_a_wrapper_returning_the_coroutine_unrun_is_am313(app, findings):
    root = app(ROUTES, FILES)
    for function, decorator, how in (
        ("sync_wrapped", "@retry_on_conflict", "synchronous wrapper"),
        ("factory_wrapped", "@retrying(3)", "synchronous wrapper"),
        ("unawaited_wrapper", "@passthrough_async", "returning it unawaited"),
        # `plain_only` returns a plain function untouched; a coroutine gets the sync wrapper
        ("coroutine_branch", "@plain_only", "synchronous wrapper"),
        # through a module-level instance whose `__call__` decorates, and a factory's decorator bound to a name
        ("instance_wrapped", "@retry_instance", "synchronous wrapper"),
        ("alias_wrapped", "@retry_three", "synchronous wrapper"),
    ):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM313"], (function, found)
        message = found[0]["message"]
        assert f"`{decorator}`" in message and how in message and "AsyncSession `db`" in message, message


def test_near_miss_an_awaiting_branch_a_marker_or_a_decorator_above_the_route_is_clean(app, findings):
    root = app(ROUTES, FILES)
    for function in ("aware_wrapped", "marked", "above_route", "awaiting_instance_wrapped"):
        assert findings(root, function) == [], function


def test_near_miss_a_route_without_an_async_session_is_not_judged(app, findings):
    assert findings(app(ROUTES, FILES), "no_session") == []


def test_listed_only_as_working_with_plain_functions_it_is_still_am313(app, findings):
    # `safe-decorators` vouches for plain functions; its wrapper still returns the coroutine unrun
    files = {**FILES, "pyproject.toml": '[tool.async-migrate]\nsafe-decorators = ["core.retry.retry_on_conflict"]\n'}
    assert [f["code"] for f in findings(app(ROUTES, files), "sync_wrapped")] == ["AM313"]
    listed = {**FILES, "pyproject.toml": '[tool.async-migrate]\nasync-safe-decorators = ["core.retry.retry_on_conflict"]\n'}
    assert findings(app(ROUTES, listed), "sync_wrapped") == []
