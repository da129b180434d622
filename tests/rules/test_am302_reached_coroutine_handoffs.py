"""AM302 for a project coroutine the route awaits handing its AsyncSession to synchronous Session code.

`async def get_multi_async(self, db: AsyncSession)` calling `self.get(db, 1)`, where the plain
`def get(self, db: Session, id)` runs `db.query(...)`: AttributeError when it runs, as when the
route calls `crud.get(db, 1)` itself (AM302); `check` passed it (and a coroutine reached
through another one). Near misses: the sync helper run through `await db.run_sync(...)`, a sync
helper given no Session work, and a coroutine handing the helper a synchronous Session of its
own. The premise runs the routes on aiosqlite."""

from __future__ import annotations

import asyncio

from sample import imported

DB = """
from typing import Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine = create_async_engine("{url}")
SessionLocal = async_sessionmaker(engine)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]


async def get_db():
    async with SessionLocal() as db:
        yield db


class CRUD:
    def get(self, db: Session, id: int) -> Optional[Item]:
        return db.query(Item).filter(Item.id == id).first()

    def label(self, db: Session, id: int) -> str:
        return f"item {{id}}"

    async def get_multi_async(self, db: AsyncSession) -> list[Item]:
        _ = self.get(db, 1)
        return list(await db.scalars(select(Item)))

    async def get_multi_offloaded(self, db: AsyncSession) -> list[Item]:
        _ = await db.run_sync(self.get, 1)
        return list(await db.scalars(select(Item)))

    async def get_multi_labelled(self, db: AsyncSession) -> list[Item]:
        _ = self.label(db, 1)
        return list(await db.scalars(select(Item)))


crud = CRUD()


def count(db: Session) -> int:
    return db.query(Item).count()


async def inner(db: AsyncSession) -> int:
    return count(db)


async def outer(db: AsyncSession) -> int:
    return await inner(db)
"""
MAIN = """
from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from reached_db import crud, get_db, outer

app = FastAPI()


@app.get("/self")
async def through_self(db: AsyncSession = Depends(get_db)) -> dict:
    return {"n": len(await crud.get_multi_async(db))}


@app.get("/chain")
async def chain(db: AsyncSession = Depends(get_db)) -> dict:
    return {"n": await outer(db)}


@app.get("/offloaded")
async def offloaded(db: AsyncSession = Depends(get_db)) -> dict:
    return {"n": len(await crud.get_multi_offloaded(db))}


@app.get("/labelled")
async def labelled(db: AsyncSession = Depends(get_db)) -> dict:
    return {"n": len(await crud.get_multi_labelled(db))}
"""
REPORTED = ["through_self", "chain"]
NEAR_MISSES = ["offloaded", "labelled"]


def _root(project):  # type: ignore[no-untyped-def]
    return project({"reached_db.py": DB.format(url="sqlite+aiosqlite:///./app.db"), "reached_main.py": MAIN})


def test_a_sync_session_helper_a_reached_coroutine_hands_the_async_session_is_am302(project, findings):
    root = _root(project)
    found = {name: findings(root, name) for name in REPORTED}
    assert {name: [f["code"] for f in each] for name, each in found.items()} == dict.fromkeys(REPORTED, ["AM302"]), found
    assert "reached_db.CRUD.get(...) in reached_db.CRUD.get_multi_async at reached_db.py:" in \
        found["through_self"][0]["message"], found
    assert "reached_db.count(...) in reached_db.inner at reached_db.py:" in found["chain"][0]["message"], found


def test_near_miss_run_sync_and_a_helper_doing_no_session_work(project, findings):
    root = _root(project)
    assert {name: findings(root, name) for name in NEAR_MISSES} == dict.fromkeys(NEAR_MISSES, [])


def test_the_premise_flagged_routes_raise_and_near_misses_answer(tmp_path):
    source = DB.format(url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    with imported(tmp_path, {"reached_db": source, "reached_main": MAIN}) as (db, main):

        async def run(name: str) -> str:
            async with db.engine.begin() as conn:
                await conn.run_sync(db.Base.metadata.create_all)
            async with db.SessionLocal() as session:
                try:
                    await getattr(main, name)(db=session)
                except AttributeError as error:
                    return f"AttributeError {error}"
            return ""

        async def every() -> dict[str, str]:
            said = {name: await run(name) for name in REPORTED + NEAR_MISSES}
            await db.engine.dispose()
            return said

        said = asyncio.run(every())
    assert all(said[name].startswith("AttributeError") and "query" in said[name] for name in REPORTED), said
    assert {name: said[name] for name in NEAR_MISSES} == dict.fromkeys(NEAR_MISSES, "")
