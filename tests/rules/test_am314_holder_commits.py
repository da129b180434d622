"""AM314 after a commit made through an object holding the AsyncSession, in code already async.

`await repo.restock_all(10)` on a repository a dependency builds (`self.db.commit()` inside), and
the end of `async with uow:` whose `__aexit__` commits `self.session`, expire what the request's
Session holds just as `await db.commit()` does; `check` saw only commits on a Session the handler
names, and passed both routes, which raise MissingGreenlet on the read after. Near misses: a
method that only reads, a unit of work whose exit commits nothing, and a refresh through the
holder after the commit."""

from __future__ import annotations

DB = """
from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, func, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
SessionLocal = async_sessionmaker(engine{keywords})


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    stock: Mapped[int]
    updated_at: Mapped[Optional[datetime]] = mapped_column(DateTime, onupdate=func.now())


async def get_db():
    async with SessionLocal() as db:
        yield db


class ItemRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def get(self, item_id: int) -> Optional[Item]:
        return await self.db.get(Item, item_id)

    async def restock_all(self, amount: int) -> None:
        await self.db.execute(text("UPDATE items SET stock = stock + :n"), {{"n": amount}})
        await self._save()

    async def _save(self) -> None:
        await self.db.commit()

    async def ping(self) -> None:
        await self.db.execute(text("SELECT 1"))


class UnitOfWork:
    def __init__(self, session: AsyncSession):
        self.session = session
        self.items = ItemRepo(session)

    async def __aenter__(self) -> "UnitOfWork":
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            await self.session.commit()


class Scope:
    def __init__(self, session: AsyncSession):
        self.session = session
        self.items = ItemRepo(session)

    async def __aenter__(self) -> "Scope":
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        return None
"""
MAIN = """
from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import ItemRepo, Scope, UnitOfWork, get_db

app = FastAPI()


async def get_repo(db: AsyncSession = Depends(get_db)) -> ItemRepo:
    return ItemRepo(db)


async def get_uow(db: AsyncSession = Depends(get_db)) -> UnitOfWork:
    return UnitOfWork(db)


async def get_scope(db: AsyncSession = Depends(get_db)) -> Scope:
    return Scope(db)


@app.post("/items/{item_id}/restock")
async def restock(item_id: int, repo: ItemRepo = Depends(get_repo)) -> dict:
    item = await repo.get(item_id)
    await repo.restock_all(10)
    return {"stock": item.stock}


@app.post("/items/{item_id}/ping")
async def ping(item_id: int, repo: ItemRepo = Depends(get_repo)) -> dict:
    item = await repo.get(item_id)
    await repo.ping()
    return {"stock": item.stock}


@app.post("/items/{item_id}/refreshed")
async def refreshed(item_id: int, repo: ItemRepo = Depends(get_repo)) -> dict:
    item = await repo.get(item_id)
    await repo.restock_all(10)
    await repo.db.refresh(item)
    return {"stock": item.stock}


@app.put("/items/{item_id}")
async def rename(item_id: int, stock: int, uow: UnitOfWork = Depends(get_uow)) -> dict:
    async with uow:
        item = await uow.items.get(item_id)
        item.stock = stock
    return {"touched": item.updated_at is not None}


@app.put("/items/{item_id}/scoped")
async def scoped(item_id: int, stock: int, uow: Scope = Depends(get_scope)) -> dict:
    async with uow:
        item = await uow.items.get(item_id)
        item.stock = stock
    return {"touched": item.updated_at is not None}
"""


def _root(project, keywords: str = ""):  # type: ignore[no-untyped-def]
    return project({"app/__init__.py": "", "app/db.py": DB.format(keywords=keywords), "app/main.py": MAIN})


def test_a_read_after_a_repository_method_committing_its_session_is_am314(project, findings):
    found = findings(_root(project), "restock")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "item.stock (expired by the `repo.restock_all()`, which commits `repo.db`, at line" in found[0]["message"], found


def test_near_miss_a_method_that_does_not_commit_and_a_refresh_through_the_holder(project, findings):
    root = _root(project)
    assert findings(root, "ping") == []
    assert findings(root, "refreshed") == []


def test_near_miss_a_sessionmaker_keeping_objects_expires_nothing_on_commit(project, findings):
    assert findings(_root(project, ", expire_on_commit=False"), "restock") == []


def test_a_generated_column_read_after_a_unit_of_work_block_committing_is_am314(project, findings):
    # the flush the exit's commit runs expires `updated_at` whatever expire_on_commit says
    found = findings(_root(project, ", expire_on_commit=False"), "rename")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "item.updated_at (expired by the end of `async with uow:`" in found[0]["message"], found


def test_near_miss_a_unit_of_work_whose_exit_commits_nothing(project, findings):
    assert findings(_root(project, ", expire_on_commit=False"), "scoped") == []
