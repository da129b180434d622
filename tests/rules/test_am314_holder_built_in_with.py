"""AM314 after the exit of a unit of work built on the `async with` line, in code already async.

`async with UnitOfWork(db) as uow:` (or bound to no name) builds the holder where it enters it;
`check` followed only a holder built before (`async with uow:`), so a read after the block its
`__aexit__` committed passed. A rollback in the exit expires what the Session holds whatever
`expire_on_commit` says, and was not counted at all. A holder whose Session the analysis cannot
trace to a sessionmaker (`self.session = self.session_factory()` in `__aenter__`, a factory
building it) is reported unverified, never passed. Near misses: `expire_on_commit=False` with an
exit that commits, an exit that only closes, a refresh after the block. The premise test runs
the flagged routes (MissingGreenlet) and the near misses (they answer) on aiosqlite."""

from __future__ import annotations

import asyncio
import sys

from sample import load_module

# The engine, sessionmaker, model and session dependency the AM314 holder tests share.
HEAD = """
from typing import Optional

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine("{url}")
SessionLocal = async_sessionmaker(engine{keywords})


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    stock: Mapped[int]


async def get_db():
    async with SessionLocal() as db:
        yield db
"""
DB = HEAD + """

class ItemRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def get(self, item_id: int) -> Optional[Item]:
        return await self.db.get(Item, item_id)


class UnitOfWork:
    def __init__(self, session: AsyncSession):
        self.session = session
        self.items = ItemRepo(session)

    async def __aenter__(self) -> "UnitOfWork":
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            await self._finish()

    async def _finish(self) -> None:
        await self.session.commit()


class Discarding:
    def __init__(self, session: AsyncSession):
        self.session = session
        self.items = ItemRepo(session)

    async def __aenter__(self) -> "Discarding":
        return self

    async def __aexit__(self, *args) -> None:
        await self.session.rollback()


class Closing:
    def __init__(self, session: AsyncSession):
        self.session = session
        self.items = ItemRepo(session)

    async def __aenter__(self) -> "Closing":
        return self

    async def __aexit__(self, *args) -> None:
        return None


class FactoryUnitOfWork:
    def __init__(self, session_factory=SessionLocal):
        self.session_factory = session_factory

    async def __aenter__(self) -> "FactoryUnitOfWork":
        self.session = self.session_factory()
        self.items = ItemRepo(self.session)
        return self

    async def __aexit__(self, *args) -> None:
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()
"""
MAIN = """
from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from holders_db import Closing, Discarding, FactoryUnitOfWork, Item, UnitOfWork, get_db

app = FastAPI()


@app.put("/built/{item_id}")
async def built(item_id: int, stock: int, db: AsyncSession = Depends(get_db)) -> dict:
    async with UnitOfWork(db) as uow:
        item = await uow.items.get(item_id)
        item.stock = stock
    return {"stock": item.stock}


@app.put("/unnamed/{item_id}")
async def unnamed(item_id: int, stock: int, db: AsyncSession = Depends(get_db)) -> dict:
    async with UnitOfWork(db):
        item = await db.get(Item, item_id)
        item.stock = stock
    return {"stock": item.stock}


@app.put("/discarded/{item_id}")
async def discarded(item_id: int, stock: int, db: AsyncSession = Depends(get_db)) -> dict:
    async with Discarding(db) as uow:
        item = await uow.items.get(item_id)
        item.stock = stock
    return {"stock": item.stock}


@app.put("/closed/{item_id}")
async def closed(item_id: int, stock: int, db: AsyncSession = Depends(get_db)) -> dict:
    async with Closing(db) as uow:
        item = await uow.items.get(item_id)
        item.stock = stock
    return {"stock": item.stock}


@app.put("/refreshed/{item_id}")
async def refreshed(item_id: int, stock: int, db: AsyncSession = Depends(get_db)) -> dict:
    async with Discarding(db) as uow:
        item = await uow.items.get(item_id)
    await db.refresh(item)
    return {"stock": item.stock}


@app.put("/factory/{item_id}")
async def factory(item_id: int, stock: int) -> dict:
    async with FactoryUnitOfWork() as uow:
        item = await uow.items.get(item_id)
        item.stock = stock
        await uow.commit()
        return {"stock": item.stock}
"""
REPORTED = ["built", "unnamed", "discarded", "factory"]
NEAR_MISSES = ["closed", "refreshed"]


def _root(project, keywords: str = ""):  # type: ignore[no-untyped-def]
    db = DB.format(url="sqlite+aiosqlite:///./app.db", keywords=keywords)
    return project({"holders_db.py": db, "holders_main.py": MAIN})


def test_reads_after_a_holder_built_on_the_with_line_commits_or_rolls_back_are_am314(project, findings):
    root = _root(project)
    found = {name: findings(root, name) for name in REPORTED}
    assert {name: [f["code"] for f in each] for name, each in found.items()} == dict.fromkeys(REPORTED, ["AM314"]), found
    assert "expired by the end of `async with UnitOfWork(...) as uow:` (line 11), whose __aexit__ commits `db`" in found["built"][0]["message"]
    assert "expired by the end of `async with UnitOfWork(...):` (line 19), whose __aexit__ commits `db`" in found["unnamed"][0]["message"]
    assert "whose __aexit__ rolls back `db`" in found["discarded"][0]["message"]
    # the factory's Session comes from an attribute the analysis does not trace to its sessionmaker
    assert "`uow.commit()`, which commits `uow.session`" in found["factory"][0]["message"]
    assert "unverified (not cleared)" in found["factory"][0]["message"]


def test_near_miss_an_exit_closing_only_and_a_refresh_after_the_block(project, findings):
    root = _root(project)
    assert {name: findings(root, name) for name in NEAR_MISSES} == dict.fromkeys(NEAR_MISSES, [])


def test_a_rollback_expires_whatever_expire_on_commit_says_and_a_commit_then_nothing(project, findings):
    root = _root(project, ", expire_on_commit=False")
    assert [f["code"] for f in findings(root, "discarded")] == ["AM314"]
    assert findings(root, "built") == [] and findings(root, "unnamed") == []


def test_the_premise_flagged_routes_raise_and_near_misses_answer(tmp_path):
    saved = {name: sys.modules.pop(name, None) for name in ("holders_db", "holders_main")}
    sys.path.insert(0, str(tmp_path))
    try:
        db = load_module(tmp_path, "holders_db", DB.format(url=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", keywords=""))
        main = load_module(tmp_path, "holders_main", MAIN)

        async def run(name: str) -> str:
            async with db.engine.begin() as conn:
                await conn.run_sync(db.Base.metadata.drop_all)
                await conn.run_sync(db.Base.metadata.create_all)
            async with db.SessionLocal() as session:
                session.add(db.Item(id=1, stock=1))
                await session.commit()
            async with db.SessionLocal() as session:
                try:
                    if name == "factory":
                        await main.factory(1, 5)
                    else:
                        await getattr(main, name)(1, 5, db=session)
                except Exception as error:  # noqa: BLE001 - what it raised is what the test reads
                    return "MissingGreenlet" if "MissingGreenlet" in f"{type(error).__name__} {error}" else repr(error)
            return ""

        async def every() -> dict[str, str]:
            said = {name: await run(name) for name in REPORTED + NEAR_MISSES}
            await db.engine.dispose()
            return said

        said = asyncio.run(every())
    finally:
        sys.path.remove(str(tmp_path))
        for name, module in saved.items():
            sys.modules.pop(name, None)
            if module is not None:
                sys.modules[name] = module
    assert said == {**dict.fromkeys(REPORTED, "MissingGreenlet"), **dict.fromkeys(NEAR_MISSES, "")}
