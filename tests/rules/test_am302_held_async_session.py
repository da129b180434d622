"""AM302 mixed-session on an AsyncSession a route's instance holds: a fastapi-utils `@cbv` view's
class attribute (`db: AsyncSession = Depends(...)`) handed, as `self.db`, to synchronous code
that does Session work with it, on the loop or through `run_in_threadpool`."""

from __future__ import annotations

import pytest

VIEW = """
from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from fastapi_utils.cbv import cbv
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

maker = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


async def get_async_db():
    async with maker() as session:
        yield session


def fetch(db: Session, item_id: int):
    return db.execute(select(item_id)).scalar_one()


def tally(db):
    return db.execute(select(1)).scalar_one()


async def afetch(db: AsyncSession, item_id: int):
    return (await db.execute(select(item_id))).scalar_one()


@cbv(router)
class Items:
    db: AsyncSession = Depends(get_async_db)

    @router.get("/offloaded/{item_id}")
    async def offloaded(self, item_id: int):
        return await run_in_threadpool(fetch, self.db, item_id)

    @router.get("/on-loop")
    async def on_loop(self):
        return tally(self.db)

    @router.get("/awaited/{item_id}")
    async def awaited(self, item_id: int):
        return await afetch(self.db, item_id)


@cbv(router)
class Plain:
    db: Session = Depends(session_dependency)

    @router.get("/plain/{item_id}")
    async def plain(self, item_id: int):
        return await run_in_threadpool(fetch, self.db, item_id)
"""


@pytest.mark.parametrize(("function", "line", "call"), [
    ("Items.offloaded", 41, "api.items.fetch(...)"),
    ("Items.on_loop", 45, "api.items.tally(...)"),
])
def test_a_views_async_session_handed_to_sync_code_is_am302(app, findings, function, line, call):
    (finding,) = findings(app(VIEW), function)
    assert finding["code"] == "AM302", finding
    assert (line, call) in [(b["line"], b["call"]) for b in finding["blocking"]], finding
    assert "holds an AsyncSession on its instance (`self.db`)" in finding["message"], finding
    assert "hands its AsyncSession to synchronous code" in finding["message"], finding


def test_near_miss_the_views_async_session_handed_to_a_coroutine_function(app, findings):
    assert findings(app(VIEW), "Items.awaited") == []


def test_near_miss_a_views_synchronous_session_offloaded_with_its_helper(app, findings):
    assert findings(app(VIEW), "Plain.plain") == []
