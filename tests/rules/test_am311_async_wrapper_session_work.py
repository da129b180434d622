"""AM311 unawaited-coroutine and the `async def` wrapper of a decorator doing the synchronous
Session's work on the AsyncSession it hands an `async def` route.

`@transactional` whose wrapper runs `result = await fn(*args, **kwargs)` and then
`kwargs["db"].commit()` (as written for the synchronous Session), around a route on AsyncSession:
the commit is a coroutine nothing awaits, nothing is written, and the route answers 200. check
said nothing of it. A wrapper that awaits the commit, or does no Session work, is no finding.
"""

from __future__ import annotations

import pytest

ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from services.decorators import awaiting, handing, logged, transactional, untold


async def get_async_db() -> AsyncSession: ...


@router.post("/committed")
@transactional
async def committed(name: str, db: AsyncSession = Depends(get_async_db)):
    db.add(object())
    return {"ok": True}


@router.post("/handed")
@handing
async def handed(name: str, db: AsyncSession = Depends(get_async_db)):
    db.add(object())
    return {"ok": True}


@router.post("/untold")
@untold
async def untold_route(name: str, db: AsyncSession = Depends(get_async_db)):
    db.add(object())
    return {"ok": True}


@router.post("/awaited")
@awaiting
async def awaited(name: str, db: AsyncSession = Depends(get_async_db)):
    db.add(object())
    return {"ok": True}


@router.post("/logged")
@logged
async def logged_route(name: str, db: AsyncSession = Depends(get_async_db)):
    db.add(object())
    await db.commit()
    return {"ok": True}
"""
DECORATORS = """
import functools
import logging

log = logging.getLogger(__name__)


def transactional(fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        result = await fn(*args, **kwargs)
        kwargs["db"].commit()
        return result
    return wrapper


def commit(session):
    session.commit()


def handing(fn):
    @functools.wraps(fn)
    async def wrapper(*args, db, **kwargs):
        result = await fn(*args, db=db, **kwargs)
        commit(db)
        return result
    return wrapper


def untold(fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        session = kwargs.get("db") or args[0]
        result = await fn(*args, **kwargs)
        session.commit()
        return result
    return wrapper


def awaiting(fn):
    @functools.wraps(fn)
    async def wrapper(*args, db, **kwargs):
        result = await fn(*args, db=db, **kwargs)
        await db.commit()
        return result
    return wrapper


def logged(fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        log.info("calling %s", fn.__name__)
        return await fn(*args, **kwargs)
    return wrapper
"""
FILES = {"services/__init__.py": "", "services/decorators.py": DECORATORS}


def am311(found: list[dict]) -> list[dict]:
    return [f for f in found if f["code"] == "AM311"]


@pytest.mark.parametrize(
    ("route", "shown"),
    [
        ("committed", 'services/decorators.py:11 (kwargs["db"].commit() in the `async def` wrapper of @transactional '
                      "around api.items.committed, not awaited)"),
        ("handed", "services/decorators.py:24 (commit(db) in the `async def` wrapper of @handing around "
                   "api.items.handed, handing it the AsyncSession, whose Session work there nothing awaits)"),
    ],
)
def test_an_async_route_under_a_wrapper_committing_its_async_session_unawaited_is_am311(app, findings, route, shown):
    found = am311(findings(app(ROUTES, FILES), route))
    assert len(found) == 1 and shown in found[0]["message"], found


def test_a_wrapper_taking_the_session_from_its_arguments_without_saying_which_is_unverified(app, findings):
    found = am311(findings(app(ROUTES, FILES), "untold_route"))
    assert len(found) == 1, found
    assert "session.commit() in the `async def` wrapper of @untold around api.items.untold_route, not awaited; the " \
        "wrapper takes that value from its arguments without saying which: unverified, not cleared" in (
            found[0]["message"]), found[0]["message"]


def test_near_miss_a_wrapper_awaiting_the_commit_is_no_am311(app, findings):
    assert am311(findings(app(ROUTES, FILES), "awaited")) == []


def test_near_miss_a_wrapper_doing_no_session_work_is_no_finding(app, findings):
    assert findings(app(ROUTES, FILES), "logged_route") == []
