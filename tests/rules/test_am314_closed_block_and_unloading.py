"""AM314 says what the read raises, and clears no read a query's own option leaves lazy.

Below the `async with` block that opened the handler's AsyncSession, the Session is closed: a
lazy load (or the refresh of an expired attribute) on an object it loaded raises
DetachedInstanceError, not MissingGreenlet. And a relationship declared eager
(`backref("items", lazy="joined")`) loads on first read where the query says
`lazyload(User.items)`: the finding was missing there. The premise test runs each read on
aiosqlite."""

from __future__ import annotations

import asyncio
import sys

import pytest
from sample import load_module
from sqlalchemy.exc import MissingGreenlet, StatementError
from sqlalchemy.orm.exc import DetachedInstanceError

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
expiring = async_sessionmaker(engine)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
'''
ROUTES = '''
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload

from db.async_engine import expiring, get_session, maker
from models import Item, User


@router.get("/closed/{item_id}")
async def closed(item_id: int):
    async with maker() as db:
        item = (await db.scalars(select(Item).where(Item.id == item_id))).one()
    return {"owner": item.owner.name}


@router.post("/expired/{item_id}")
async def expired(item_id: int):
    async with expiring() as db:
        item = (await db.scalars(select(Item).where(Item.id == item_id))).one()
        await db.commit()
    return {"id": item.owner_id}


@router.get("/inside/{item_id}")
async def inside(item_id: int):
    async with maker() as db:
        item = (await db.scalars(select(Item).where(Item.id == item_id))).one()
        return {"owner": item.owner.name}


@router.get("/unloaded/{user_id}")
async def unloaded(user_id: int, db: AsyncSession = Depends(get_session)):
    user = (await db.scalars(select(User).where(User.id == user_id).options(lazyload(User.items)))).unique().one()
    return {"n": len(user.items)}


async def unloaded_user(user_id: int, db: AsyncSession = Depends(get_session)) -> User:
    return (await db.scalars(select(User).where(User.id == user_id).options(lazyload(User.items)))).unique().one()


@router.get("/given/{user_id}")
async def given(user: User = Depends(unloaded_user)):
    return {"n": len(user.items)}


@router.get("/declared/{user_id}")
async def declared(user_id: int, db: AsyncSession = Depends(get_session)):
    user = (await db.scalars(select(User).where(User.id == user_id))).unique().one()
    return {"n": len(user.items)}
'''


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    return app(ROUTES, {"models.py": MODELS, "db/async_engine.py": ENGINE})


@pytest.mark.parametrize(("function", "read"), [("closed", "item.owner"), ("expired", "item.owner_id")])
def test_a_read_below_the_closed_block_says_detached_instance_error(root, findings, function, read):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM314"], found
    message = found[0]["message"]
    assert "DetachedInstanceError, not MissingGreenlet" in message and "raises MissingGreenlet" not in message, message
    assert any(b["call"].startswith(read) and "closed its AsyncSession" in b["call"] for b in found[0]["blocking"])


def test_near_miss_a_read_inside_the_block_is_missing_greenlet(root, findings):
    found = findings(root, "inside")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "raises MissingGreenlet" in found[0]["message"] and "Detached" not in found[0]["message"], found


def test_a_querys_own_lazyload_wins_over_a_declared_eager_strategy(root, findings):
    found = findings(root, "unloaded")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "user.items (lazy load)" in found[0]["message"] and "lazyload(...)" in found[0]["message"], found
    assert findings(root, "declared") == []  # the query loads it as declared
    found = findings(root, "given")  # the same query in the dependency handing the user on
    assert [f["code"] for f in found] == ["AM314"] and "user.items (lazy load)" in found[0]["message"], found


@pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited")
def test_the_premise_what_each_read_raises(tmp_path, monkeypatch):
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.orm import lazyload

    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    models = load_module(tmp_path, "models", MODELS)
    User, Item = models.User, models.Item

    async def run() -> dict[str, str]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/premise.db")
        async with engine.begin() as conn:
            await conn.run_sync(models.Base.metadata.create_all)
        maker, expiring = async_sessionmaker(engine, expire_on_commit=False), async_sessionmaker(engine)
        async with maker() as db:
            db.add_all([User(id=1, name="Ann"), Item(id=1, owner_id=1)])
            await db.commit()
        outcomes: dict[str, str] = {}

        def attempt(name: str, read) -> None:  # type: ignore[no-untyped-def]
            try:
                read()
                outcomes[name] = "ok"
            except (MissingGreenlet, StatementError, DetachedInstanceError) as error:
                outcomes[name] = type(getattr(error, "orig", None) or error).__name__

        async with maker() as db:
            item = (await db.scalars(select(Item))).one()
        attempt("closed", lambda: item.owner.name)
        async with expiring() as db:
            held = (await db.scalars(select(Item))).one()
            await db.commit()
        attempt("expired", lambda: held.owner_id)
        async with maker() as db:
            inner = (await db.scalars(select(Item))).one()
            attempt("inside", lambda: inner.owner.name)
        async with maker() as db:
            user = (await db.scalars(select(User).options(lazyload(User.items)))).unique().one()
            attempt("unloaded", lambda: len(user.items))
        async with maker() as db:
            loaded = (await db.scalars(select(User))).unique().one()
            attempt("declared", lambda: len(loaded.items))
        await engine.dispose()
        return outcomes

    assert asyncio.run(run()) == {
        "closed": "DetachedInstanceError", "expired": "DetachedInstanceError", "inside": "MissingGreenlet",
        "unloaded": "MissingGreenlet", "declared": "ok",
    }
