"""AM314 and AM338 on an AsyncSession a route gets from a cached function, in code already async.

`@lru_cache def get_session(): return AsyncSession(engine)` (or `@cache`, returning
`async_session_factory()`) hands every request the Session its first call opened, as a
module-level `SESSION = async_session_factory()` does: `db = get_session()` then a read after
`await db.commit()`, or of a relationship no query loads, raised MissingGreenlet at request time,
and `check` passed the routes (it read only names bound at module level). `await
get_plain().get(...)`, and `await db_module.SESSION.get(...)` through the module, work on that one
Session too (AM338). Near misses: a cached function returning no Session, an uncached opener (a
Session per call), and `expire_on_commit=False` (no expired read; the Session is still shared)."""

from __future__ import annotations

DB = """
from functools import cache, lru_cache

from sqlalchemy import ForeignKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
async_session_factory = async_sessionmaker(engine{keywords})


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    stock: Mapped[int]
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    owner: Mapped[Owner] = relationship()


@lru_cache
def get_session() -> AsyncSession:
    return AsyncSession(engine)


@lru_cache(maxsize=None)
def get_made():
    return async_session_factory()


@cache
def get_plain():
    return async_session_factory()


@cache
def get_settings():
    return dict(debug=True)


def get_fresh():
    return async_session_factory()


SESSION = async_session_factory()
"""
MAIN = """
from fastapi import FastAPI

from app import db as db_module
from app.db import Item, get_fresh, get_made, get_plain, get_session, get_settings

app = FastAPI()


@app.post("/a/{item_id}")
async def committed(item_id: int) -> dict:
    db = get_session()
    item = await db.get(Item, item_id)
    item.stock += 1
    await db.commit()
    return {"stock": item.stock}


@app.post("/g/{item_id}")
async def made_committed(item_id: int) -> dict:
    db = get_made()
    item = await db.get(Item, item_id)
    item.stock += 1
    await db.commit()
    return {"stock": item.stock}


@app.post("/b/{item_id}")
async def lazy(item_id: int) -> dict:
    db = get_made()
    item = await db.get(Item, item_id)
    return {"owner": item.owner.name}


@app.post("/c/{item_id}")
async def direct(item_id: int) -> dict:
    item = await get_plain().get(Item, item_id)
    return {"stock": item.stock}


@app.post("/d/{item_id}")
async def through_module(item_id: int) -> dict:
    item = await db_module.SESSION.get(Item, item_id)
    return {"stock": item.stock}


@app.post("/e/{item_id}")
async def settings(item_id: int) -> dict:
    found = get_settings()
    return {"debug": found["debug"]}


@app.post("/f/{item_id}")
async def fresh(item_id: int) -> dict:
    async with get_fresh() as db:
        item = await db.get(Item, item_id)
        return {"stock": item.stock}
"""


def _root(project, keywords: str = ""):  # type: ignore[no-untyped-def]
    return project({"app/__init__.py": "", "app/db.py": DB.format(keywords=keywords), "app/main.py": MAIN})


def test_a_cached_session_is_shared_and_its_loads_are_read_as_a_module_level_ones(project, findings):
    root = _root(project)
    found = findings(root, "committed")
    assert [f["code"] for f in found] == ["AM314", "AM338"], found
    assert "item.stock (expired by the db.commit() at line 14)" in found[0]["message"], found
    assert "made by the first call of the cached `get_session()` at app/db.py:" in found[1]["message"], found
    found = findings(root, "lazy")
    assert [f["code"] for f in found] == ["AM314", "AM338"], found
    assert "item.owner (lazy load)" in found[0]["message"], found


def test_a_cached_opener_called_in_place_and_a_module_session_through_its_module_are_am338(project, findings):
    root = _root(project)
    found = findings(root, "direct")
    assert [f["code"] for f in found] == ["AM338"], found
    assert "line 36 (`get_plain().get()`)" in found[0]["message"], found
    found = findings(root, "through_module")
    assert [f["code"] for f in found] == ["AM338"], found
    assert "(made at import at app/db.py:" in found[0]["message"], found


def test_near_miss_no_session_cached_an_uncached_opener_and_a_session_keeping_objects(project, findings):
    root = _root(project)
    assert findings(root, "settings") == []
    assert findings(root, "fresh") == []
    assert [f["code"] for f in findings(root, "made_committed")] == ["AM314", "AM338"]
    kept = _root(project, ", expire_on_commit=False")
    assert [f["code"] for f in findings(kept, "made_committed")] == ["AM338"]
