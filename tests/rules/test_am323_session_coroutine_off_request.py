"""AM323 session-coroutine-off-request: `check` flags a coroutine given the request's AsyncSession
that runs as a task of its own after the handler returns (or is handed where the analysis cannot
tell), and leaves one awaited in place, held and awaited, or joined by a task group alone."""

from __future__ import annotations

HELPERS = """
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def save(db: AsyncSession) -> None:
    await db.execute(text("insert into audit values (1)"))
    await db.commit()
"""
ROUTES = """
import asyncio

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import save


async def get_async_db() -> AsyncSession: ...


def fire(coro):
    return asyncio.ensure_future(coro)


async def in_request(coro):
    return await coro


async def timed(coro, seconds=5):
    return await asyncio.wait_for(coro, seconds)


async def logged(label, coro):
    result = await coro
    print(label, result)
    return result


PENDING = []


async def kept(coro):
    PENDING.append(coro)
    await coro


async def spawned(coro):
    asyncio.create_task(coro)


async def maybe(coro, really):
    if really:
        await coro


@router.post("/tasked")
async def tasked(db: AsyncSession = Depends(get_async_db)):
    asyncio.create_task(save(db))


@router.post("/looped")
async def looped(db: AsyncSession = Depends(get_async_db)):
    asyncio.get_running_loop().create_task(save(db))


@router.post("/shielded")
async def shielded(db: AsyncSession = Depends(get_async_db)):
    asyncio.shield(save(db))


@router.post("/fired")
async def fired(db: AsyncSession = Depends(get_async_db)):
    fire(save(db))


@router.post("/awaited")
async def awaited(db: AsyncSession = Depends(get_async_db)):
    await asyncio.shield(save(db))
    await asyncio.wait_for(save(db), 5)
    task = asyncio.create_task(save(db))
    await task
    async with asyncio.TaskGroup() as tg:
        tg.create_task(save(db))


@router.post("/wrapped")
async def wrapped(db: AsyncSession = Depends(get_async_db)):
    await in_request(save(db))
    await timed(save(db))
    return await logged("saved", coro=save(db))


@router.post("/stored")
async def stored(db: AsyncSession = Depends(get_async_db)):
    await kept(save(db))


@router.post("/tasked_inside")
async def tasked_inside(db: AsyncSession = Depends(get_async_db)):
    await spawned(save(db))


@router.post("/maybe_awaited")
async def maybe_awaited(db: AsyncSession = Depends(get_async_db)):
    await maybe(save(db), True)


@router.post("/wrapper_tasked")
async def wrapper_tasked(db: AsyncSession = Depends(get_async_db)):
    asyncio.create_task(in_request(save(db)))
"""
FILES = {"services/__init__.py": "", "services/audit.py": HELPERS}


def test_a_session_coroutine_left_running_after_the_handler_is_am323(app, findings):
    root = app(ROUTES, FILES)
    for function, to in (("tasked", "asyncio.create_task"), ("looped", "create_task"),
                         ("shielded", "asyncio.shield"), ("fired", "api.items.fire")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM323"], (function, found)
        message = found[0]["message"]
        assert "services.audit.save(...)" in message and "AsyncSession `db`" in message, message
        assert f"{to}()" in message, message
    assert "which the analysis does not follow" in findings(root, "fired")[0]["message"]


def test_near_miss_awaited_held_and_awaited_or_joined_by_a_task_group_is_clean(app, findings):
    assert findings(app(ROUTES, FILES), "awaited") == []


def test_a_project_async_def_awaiting_its_parameter_on_every_path_runs_it_in_the_request(app, findings):
    # `await in_request(save(db))`: the wrapper awaits the coroutine in place (or through an
    # awaited wait_for, or holding its result), so it ends before the handler does
    assert findings(app(ROUTES, FILES), "wrapped") == []


def test_near_miss_a_wrapper_storing_tasking_or_maybe_awaiting_the_coroutine_is_am323(app, findings):
    root = app(ROUTES, FILES)
    for function, to in (("stored", "api.items.kept"), ("tasked_inside", "api.items.spawned"),
                         ("maybe_awaited", "api.items.maybe"), ("wrapper_tasked", "api.items.in_request")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM323"], (function, found)
        assert f"{to}()" in found[0]["message"], found[0]["message"]
