"""AM311 unawaited-coroutine: a handler calling a project coroutine function without `await`."""

from __future__ import annotations

HELPERS = """
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def count_rows(db: AsyncSession) -> int:
    return await db.scalar(text("select 1"))
"""
ROUTES = """
import asyncio

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.engine import get_db_session
from services.rows import count_rows


async def get_async_db() -> AsyncSession: ...


@router.get("/forgot")
async def forgot(db: AsyncSession = Depends(get_async_db)):
    return {"n": count_rows(db)}


@router.get("/sync")
def from_def(db: Session = Depends(get_db_session)):
    return {"n": count_rows(db)}


@router.get("/fine")
async def fine(db: AsyncSession = Depends(get_async_db)):
    task = asyncio.create_task(count_rows(db))
    return {"n": await count_rows(db), "t": await task}


@router.get("/held")
async def held(db: AsyncSession = Depends(get_async_db)):
    pending = count_rows(db)
    task = asyncio.get_running_loop().create_task(pending)
    return {"t": await task}
"""
FILES = {"services/__init__.py": "", "services/rows.py": HELPERS}


def test_an_unawaited_coroutine_call_is_am311_in_async_and_def_handlers(app, findings):
    root = app(ROUTES, FILES)
    for function, fix in (("forgot", "await it"), ("from_def", "a `def` route cannot await")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM311"], found
        assert "without `await` at line" in found[0]["message"] and fix in found[0]["message"], found


def test_near_miss_awaited_or_handed_to_create_task_and_the_helper_stays_an_async_session_helper(app, findings):
    # The def route handing the helper a synchronous Session does not make the helper's
    # AsyncSession parameter a synchronous one (no AM302 on the correct routes).
    root = app(ROUTES, FILES)
    assert findings(root, "fine") == []
    assert findings(root, "held") == []  # the coroutine a local name holds, handed to create_task


def test_near_miss_an_async_generator_is_iterated_not_awaited(app, findings):
    # `await` on an async generator raises TypeError: AM311's fix would break the route.
    source = """
from sqlalchemy.ext.asyncio import AsyncSession
from fastapi import Depends


async def get_async_db() -> AsyncSession: ...


async def lines(db: AsyncSession):
    for n in (await db.scalars("select 1")).all():
        yield str(n)


@router.get("/lines")
async def all_lines(db: AsyncSession = Depends(get_async_db)):
    return [line async for line in lines(db)]
"""
    assert findings(app(source), "all_lines") == []
