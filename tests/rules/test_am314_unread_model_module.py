"""AM314 on an object of a class imported from a project module the tool did not read
(`from core.model_aliases import ItemModel`, that file missing when the tool runs, outside PATH
or unparsable): no library's class, perhaps a model. Read as one without relationships, its
reads were cleared; a read some model of the project gives a property, a deferred column or a
relationship of that name is unverified now, never cleared."""

from __future__ import annotations

import pytest

MODELS = '''
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str | None] = mapped_column(String(100), deferred=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    owner: Mapped[User] = relationship()

    @property
    def owner_name(self) -> str:
        return self.owner.name
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
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.async_engine import get_session
from core.model_aliases import ItemModel
from models import User


@router.get("/a/{item_id}")
async def prop(item_id: int, db: AsyncSession = Depends(get_session)):
    item = (await db.scalars(select(ItemModel).where(ItemModel.id == item_id))).one()
    return {"n": item.owner_name}


@router.get("/b/{item_id}")
async def note(item_id: int, db: AsyncSession = Depends(get_session)):
    item = (await db.scalars(select(ItemModel).where(ItemModel.id == item_id))).one()
    return {"n": item.note}


@router.get("/c/{item_id}")
async def rel(item_id: int, db: AsyncSession = Depends(get_session)):
    item = (await db.scalars(select(ItemModel).where(ItemModel.id == item_id))).one()
    return {"n": item.owner.name}




@router.get("/d/{item_id}")
async def ident(item_id: int, db: AsyncSession = Depends(get_session)):
    item = (await db.scalars(select(ItemModel).where(ItemModel.id == item_id))).one()
    return {"n": item.id}
'''
UNSEEN = "on objects of a class whose module the tool did not read"


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    return app(ROUTES, {"models.py": MODELS, "db/async_engine.py": ENGINE})


@pytest.mark.parametrize(("function", "read"), [("prop", "item.owner_name"), ("note", "item.note")])
def test_a_read_on_a_class_of_a_module_not_read_is_unverified(root, findings, function, read):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM314"], found
    message = found[0]["message"]
    assert UNSEEN in message and "unverified (not cleared)" in message and f"({read} (" in message, message
    assert "`core.model_aliases.ItemModel`" in message, message


def test_near_misses_a_relationship_by_name_and_a_name_no_model_loads(root, findings):
    found = findings(root, "rel")  # a relationship name some model declares: the lazy load, as before
    assert [f["code"] for f in found] == ["AM314"] and "item.owner (lazy load)" in found[0]["message"], found
    assert findings(root, "ident") == []  # no model has code, a relationship or a deferred column named `id`
