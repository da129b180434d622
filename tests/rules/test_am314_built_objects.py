"""AM314 on an object the handler builds itself and adds to its AsyncSession.

`user = User(...)`, `db.add(user)`, `await db.flush()` (or `commit()`), then `user.items`: no
query loaded the object, so its relationships load on first read, a relationship declared eager
(`backref("items", lazy="joined")`) as well: MissingGreenlet. `check` passed such a handler. Read
while the object is still pending (added, not flushed), or after a refresh naming the
relationship, or one the handler set itself (`Item(owner=owner)`, `item.owner = owner`), nothing
loads. The premise test runs each read on aiosqlite."""

from __future__ import annotations

import asyncio
import sys

import pytest
from sample import load_module
from sqlalchemy.exc import MissingGreenlet, StatementError

MODELS = '''
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, backref, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    owner = relationship("User", backref=backref("items", lazy="joined"))
'''
ENGINE = '''
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite://")
maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
'''
ROUTES = '''
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from db.async_engine import get_session, maker
from models import Item, User


@router.post("/flushed")
async def flushed(name: str, db: AsyncSession = Depends(get_session)):
    user = User(name=name)
    db.add(user)
    await db.flush()
    return {"n": len(user.items)}


@router.post("/committed")
async def committed(owner_id: int):
    async with maker() as db:
        item = Item(owner_id=owner_id)
        db.add_all([item])
        await db.commit()
        return {"owner": item.owner.name}


@router.post("/given")
async def given(owner_id: int, db: AsyncSession = Depends(get_session)):
    owner = await db.get(User, owner_id)
    item = Item(owner=owner)
    db.add(item)
    await db.commit()
    other = Item(owner_id=owner_id)
    other.owner = owner
    db.add(other)
    await db.flush()
    return {"owner": item.owner.name, "other": other.owner.name}


@router.post("/pending")
async def pending(name: str, db: AsyncSession = Depends(get_session)):
    user = User(name=name)
    db.add(user)
    n = len(user.items)
    await db.commit()
    return {"n": n}


@router.post("/refreshed")
async def refreshed(name: str, db: AsyncSession = Depends(get_session)):
    user = User(name=name)
    db.add(user)
    await db.commit()
    await db.refresh(user, attribute_names=["items"])
    return {"n": len(user.items)}
'''


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    return app(ROUTES, {"models.py": MODELS, "db/async_engine.py": ENGINE})


@pytest.mark.parametrize(("function", "read"), [("flushed", "user.items"), ("committed", "item.owner")])
def test_a_relationship_read_on_an_object_the_handler_builds_and_flushes_is_missing_greenlet(root, findings,
                                                                                              function, read):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert any(b["call"].startswith(f"{read} (lazy load)") and "builds" in b["call"] for b in found[0]["blocking"]), found


@pytest.mark.parametrize("function", ["given", "pending", "refreshed"])
def test_near_miss_a_pending_object_or_a_refresh_naming_it_loads_nothing_on_the_read(root, findings, function):
    assert findings(root, function) == []


CHAINED_MODELS = '''
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Org(Base):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    items = relationship("Item", lazy="selectin")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"), default=None)
    org = relationship("Org")


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
'''
CHAINED = '''
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from db.async_engine import get_session
from models import Org, User


@router.post("/chained")
async def chained(name: str, db: AsyncSession = Depends(get_session)):
    user = User(org=Org(name=name))
    db.add(user)
    await db.commit()
    return {"n": len(user.org.items)}


@router.post("/held")
async def held(name: str, db: AsyncSession = Depends(get_session)):
    user = User(org=Org(name=name))
    db.add(user)
    await db.flush()
    org = user.org
    return {"n": len(org.items)}
'''


def test_a_relationship_declared_eager_below_a_built_object_is_missing_greenlet(app, findings, tmp_path, monkeypatch):
    """`user.org` was given to the built user; the Org is built too, and no query of Org loaded
    it: `org.items` loads on first read although Org declares it `lazy="selectin"`."""
    root = app(CHAINED, {"models.py": CHAINED_MODELS, "db/async_engine.py": ENGINE})
    for function, read in (("chained", "user.org.items"), ("held", "org.items")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM314"], found
        assert any(b["call"].startswith(f"{read} (lazy load), on what user.org leads to") for b in found[0]["blocking"]), found
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    models = load_module(tmp_path, "models", CHAINED_MODELS)

    async def run() -> str:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/chained.db")
        async with engine.begin() as conn:
            await conn.run_sync(models.Base.metadata.create_all)
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            user = models.User(org=models.Org(name="o"))
            db.add(user)
            await db.commit()
            try:
                len(user.org.items)
                outcome = "ok"
            except (MissingGreenlet, StatementError) as error:
                outcome = type(getattr(error, "orig", None) or error).__name__
        await engine.dispose()
        return outcome

    assert asyncio.run(run()) == "MissingGreenlet"


@pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited")
def test_the_premise_what_each_read_raises(tmp_path, monkeypatch):
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    models = load_module(tmp_path, "models", MODELS)
    User, Item = models.User, models.Item

    async def run() -> dict[str, str]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/premise.db")
        async with engine.begin() as conn:
            await conn.run_sync(models.Base.metadata.create_all)
        maker = async_sessionmaker(engine, expire_on_commit=False)
        async with maker() as db:
            db.add_all([User(id=1, name="Ann"), Item(id=1, owner_id=1)])
            await db.commit()
        outcomes: dict[str, str] = {}

        def attempt(name: str, read) -> None:  # type: ignore[no-untyped-def]
            try:
                read()
                outcomes[name] = "ok"
            except (MissingGreenlet, StatementError) as error:
                outcomes[name] = type(getattr(error, "orig", None) or error).__name__

        async with maker() as db:
            user = User(name="Bo")
            db.add(user)
            await db.flush()
            attempt("flushed", lambda: len(user.items))
        async with maker() as db:
            item = Item(owner_id=1)
            db.add_all([item])
            await db.commit()
            attempt("committed", lambda: item.owner.name)
        async with maker() as db:
            waiting = User(name="Cy")
            db.add(waiting)
            attempt("pending", lambda: len(waiting.items))
            await db.commit()
        async with maker() as db:
            fresh = User(name="Di")
            db.add(fresh)
            await db.commit()
            await db.refresh(fresh, attribute_names=["items"])
            attempt("refreshed", lambda: len(fresh.items))
        await engine.dispose()
        return outcomes

    assert asyncio.run(run()) == {
        "flushed": "MissingGreenlet", "committed": "MissingGreenlet", "pending": "ok", "refreshed": "ok",
    }
