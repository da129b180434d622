"""AM311 unawaited-coroutine and decorators choosing their wrapper by `iscoroutinefunction(fn)`.

A plain `def` helper handed the AsyncSession under `@transactional`, whose plain wrapper commits it
after the call, gives the commit back as a coroutine nothing awaits: its own body only adds, so
nothing else says so. An `async def` helper under the same decorator gets the awaiting wrapper and
commits: no finding, though the decorator's plain wrapper (the other side of the branch) commits
unawaited. A decorator with one plain wrapper for both kinds still is AM311 around an `async def`.
"""

from __future__ import annotations

import pytest

ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from services.tx import (
    add_plain, add_plain_logged, add_plain_positional, add_plain_retried, add_async, add_async_plain_only,
    add_async_untold,
)


async def get_async_db() -> AsyncSession: ...


@router.post("/plain")
async def plain(db: AsyncSession = Depends(get_async_db)):
    return add_plain(session=db, name="x")


@router.post("/positional")
async def positional(db: AsyncSession = Depends(get_async_db)):
    return add_plain_positional(db, "x")


@router.post("/retried")
async def retried(db: AsyncSession = Depends(get_async_db)):
    return add_plain_retried(session=db, name="x")


@router.post("/logged")
async def logged(db: AsyncSession = Depends(get_async_db)):
    return add_plain_logged(session=db, name="x")


@router.post("/awaited")
async def awaited(db: AsyncSession = Depends(get_async_db)):
    return await add_async(session=db, name="x")


@router.post("/plain-only")
async def plain_only(db: AsyncSession = Depends(get_async_db)):
    return await add_async_plain_only(db, "x")


@router.post("/untold")
async def untold(db: AsyncSession = Depends(get_async_db)):
    return await add_async_untold(session=db, name="x")
"""
DECORATORS = """
import functools
import inspect
import logging

log = logging.getLogger(__name__)


def transactional(fn):
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def awrapper(*args, session, **kwargs):
            result = await fn(*args, session=session, **kwargs)
            await session.commit()
            return result
        return awrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        session = kwargs["session"]
        result = fn(*args, **kwargs)
        session.commit()
        return result
    return wrapper


def committing(fn):
    if inspect.iscoroutinefunction(fn):
        async def awrapper(db, *args, **kwargs):
            result = await fn(db, *args, **kwargs)
            await db.flush()
            return result
        return awrapper

    def wrapper(db, *args, **kwargs):
        result = fn(db, *args, **kwargs)
        db.flush()
        return result
    return wrapper


def retry(times):
    def decorate(fn):
        if inspect.iscoroutinefunction(fn):
            async def awrapper(*args, session, **kwargs):
                result = await fn(*args, session=session, **kwargs)
                await finish(session)
                return result
            return awrapper

        def wrapper(*args, session, **kwargs):
            result = fn(*args, session=session, **kwargs)
            finish(session)
            return result
        return wrapper
    return decorate


def finish(session):
    return session.commit()


def plain_only(fn):
    def wrapper(db, *args, **kwargs):
        result = fn(db, *args, **kwargs)
        db.commit()
        return result
    return wrapper


def untold(fn):
    if inspect.iscoroutinefunction(fn):
        return make_async(fn)

    def wrapper(*args, **kwargs):
        result = fn(*args, **kwargs)
        kwargs["session"].commit()
        return result
    return wrapper


def logged(fn):
    def wrapper(*args, **kwargs):
        log.info("calling %s", fn.__name__)
        return fn(*args, **kwargs)
    return wrapper
"""
TX = """
from sqlalchemy.ext.asyncio import AsyncSession

from services.decorators import committing, logged, plain_only, retry, transactional, untold


@transactional
def add_plain(*, session: AsyncSession, name: str) -> str:
    session.add(object())
    return name


@committing
def add_plain_positional(db: AsyncSession, name: str) -> str:
    db.add(object())
    return name


@retry(3)
def add_plain_retried(*, session: AsyncSession, name: str) -> str:
    session.add(object())
    return name


@logged
def add_plain_logged(*, session: AsyncSession, name: str) -> str:
    session.add(object())
    return name


@transactional
async def add_async(*, session: AsyncSession, name: str) -> str:
    session.add(object())
    return name


@plain_only
async def add_async_plain_only(db: AsyncSession, name: str) -> str:
    db.add(object())
    return name


@untold
async def add_async_untold(*, session: AsyncSession, name: str) -> str:
    session.add(object())
    return name
"""
FILES = {"services/__init__.py": "", "services/decorators.py": DECORATORS, "services/tx.py": TX}


def am311(found: list[dict]) -> list[dict]:
    # `session = kwargs["session"]` in a plain wrapper is also an item the analysis cannot type
    # (AM304, unverified) beside it
    assert {f["code"] for f in found} <= {"AM311", "AM304"}, found
    return [f for f in found if f["code"] == "AM311"]


@pytest.mark.parametrize(
    ("route", "shown"),
    [
        ("plain", "services/decorators.py:21 (session.commit() in the plain wrapper of @transactional around "
                  "services.tx.add_plain, a plain `def` handed the AsyncSession"),
        ("positional", "services/decorators.py:36 (db.flush() in the plain wrapper of @committing around "
                       "services.tx.add_plain_positional"),
        ("retried", "services/decorators.py:52 (finish(session) in the plain wrapper of @retry(3) around "
                    "services.tx.add_plain_retried"),
    ],
)
def test_a_plain_def_handed_the_async_session_under_a_committing_wrapper_is_am311(app, findings, route, shown):
    found = am311(findings(app(ROUTES, FILES), route))
    assert len(found) == 1 and shown in found[0]["message"], found


def test_an_async_def_under_a_decorator_awaiting_coroutine_functions_is_no_am311(app, findings):
    # the plain wrapper commits unawaited, but a coroutine function gets the awaiting one
    assert am311(findings(app(ROUTES, FILES), "awaited")) == []


def test_near_miss_a_plain_def_under_a_decorator_doing_no_session_work_is_no_am311(app, findings):
    assert findings(app(ROUTES, FILES), "logged") == []


def test_near_miss_an_async_def_under_a_decorator_with_one_plain_wrapper_still_is_am311(app, findings):
    found = am311(findings(app(ROUTES, FILES), "plain_only"))
    assert len(found) == 1, found
    assert "in the plain wrapper of @plain_only around services.tx.add_async_plain_only, which returns its " \
        "coroutine unrun" in found[0]["message"], found[0]["message"]


def test_a_decorator_whose_coroutine_side_cannot_be_read_is_said_so(app, findings):
    found = am311(findings(app(ROUTES, FILES), "untold"))
    assert len(found) == 1, found
    message = found[0]["message"]
    assert "whether the decorator (services/decorators.py:70) gives a coroutine function a wrapper awaiting it " \
        "cannot be told" in message and "unverified, not cleared" in message, message
    assert "which returns its coroutine unrun" not in message, message
