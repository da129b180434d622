"""AM314 for a lazy relationship read on an object a loader the flow does not follow gives.

`tag = await crud.tag.get_async(db, id=tag_id)` (a generic CRUD object's method returning its
TypeVar, `class CRUDTag(CRUDBase[Tag])`) then `len(tag.items)`; `item.owner.items` past a
selectin `owner`; a repository method declared `-> Tag | None`; `current_user: User =
Depends(get_current_active_user)`, a dependency returning what one loading through the
AsyncSession gives (or `Depends(RoleChecker("w"))`, a callable class's `__call__` doing so), then
`len(current_user.items)`: each read loads the relationship outside any
greenlet and raises MissingGreenlet, and `check` said nothing, since the flow traces none of these
objects to a query. Now each is unverified, naming the relationship of the declared class; so
are a property reading one (`item.tag_name` reading `self.tag`) and a schema validated in the body
(`ItemOut.model_validate(item)` with a `tag` field).
Near misses: a `lazy="joined"` or `"selectin"` relationship, a column, a loader option of the
closure naming the relationship, an object the route builds, a dependency object only read for
its `id` (or for a selectin relationship), a property reading columns. The premise test runs five flagged routes on aiosqlite."""

from __future__ import annotations

import asyncio

import pytest
from sample import imported

DB = """
from typing import Generic, Optional, TypeVar

from fastapi import Depends, HTTPException
from sqlalchemy import ForeignKey, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload

engine = create_async_engine("{url}")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    tag_id: Mapped[int | None] = mapped_column(ForeignKey("tags.id"))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]
    items: Mapped[list["Item"]] = relationship(back_populates="owner")
    groups: Mapped[list[Group]] = relationship(lazy="selectin")


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    items: Mapped[list["Item"]] = relationship(back_populates="tag")
    groups: Mapped[list[Group]] = relationship(lazy="joined")


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"))
    owner: Mapped[User] = relationship(back_populates="items", lazy="selectin")
    tag: Mapped[Tag] = relationship(back_populates="items")

    @property
    def tag_name(self) -> str:
        return self.tag.name

    @property
    def label(self) -> str:
        return self.title.upper()


async def get_db():
    async with SessionLocal() as db:
        yield db


ModelType = TypeVar("ModelType", bound=Base)


class CRUDBase(Generic[ModelType]):
    def __init__(self, model: type[ModelType]):
        self.model = model

    async def get_async(self, db: AsyncSession, id: int) -> Optional[ModelType]:
        return (await db.scalars(select(self.model).where(self.model.id == id).limit(1))).first()


class CRUDTag(CRUDBase[Tag]):
    async def get_with_items(self, db: AsyncSession, id: int) -> Optional[Tag]:
        stmt = select(self.model).options(selectinload(Tag.items)).where(self.model.id == id)
        return (await db.scalars(stmt)).first()


class CRUDItem(CRUDBase[Item]):
    pass


class CRUDUser(CRUDBase[User]):
    pass


tag = CRUDTag(Tag)
item = CRUDItem(Item)
user = CRUDUser(User)


class TagRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    def _select(self, model):
        return select(model)

    async def by_name(self, name: str) -> Tag | None:
        return (await self.db.scalars(self._select(Tag).where(Tag.name == name))).first()


async def get_current_user(db: AsyncSession = Depends(get_db)) -> User:
    found = await user.get_async(db, id=1)
    if not found:
        raise HTTPException(status_code=404)
    return found


async def get_current_active_user(current_user: User = Depends(get_current_user)) -> User:
    return current_user


class RoleChecker:
    def __init__(self, role: str):
        self.role = role

    async def __call__(self, current_user: User = Depends(get_current_user)) -> User:
        return current_user
"""
MAIN = """
from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

import loader_db as crud
from loader_db import RoleChecker, Tag, TagRepo, User, get_current_active_user, get_db

app = FastAPI()


class TagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str
    tag: TagOut


@app.get("/items/{id}/tag-name")
async def item_tag_name(id: int, db: AsyncSession = Depends(get_db)):
    item = await crud.item.get_async(db, id=id)
    return {"tag": item.tag_name}


@app.get("/items/{id}/validated")
async def item_validated(id: int, db: AsyncSession = Depends(get_db)):
    item = await crud.item.get_async(db, id=id)
    return ItemOut.model_validate(item).model_dump()


@app.get("/items/{id}/label")
async def item_label(id: int, db: AsyncSession = Depends(get_db)):
    item = await crud.item.get_async(db, id=id)
    return {"label": item.label}


@app.get("/tags/{tag_id}/count")
async def tag_item_count(tag_id: int, db: AsyncSession = Depends(get_db)):
    tag = await crud.tag.get_async(db, id=tag_id)
    return {"n": len(tag.items)}


@app.get("/items/{id}/owner-count")
async def owner_item_count(id: int, db: AsyncSession = Depends(get_db)):
    item = await crud.item.get_async(db, id=id)
    return {"n": len(item.owner.items)}


@app.get("/tags/by-name/{name}")
async def tag_by_name(name: str, db: AsyncSession = Depends(get_db)):
    tag = await TagRepo(db).by_name(name)
    return {"n": len(tag.items)}


@app.get("/mine/count")
async def my_item_count(current_user: User = Depends(get_current_active_user)):
    return {"n": len(current_user.items)}


@app.get("/tags/{tag_id}/groups")
async def tag_groups(tag_id: int, db: AsyncSession = Depends(get_db)):
    tag = await crud.tag.get_async(db, id=tag_id)
    return {"n": len(tag.groups), "name": tag.name}


@app.get("/items/{id}/owner-groups")
async def owner_groups(id: int, db: AsyncSession = Depends(get_db)):
    item = await crud.item.get_async(db, id=id)
    return {"n": len(item.owner.groups), "title": item.title}


@app.get("/tags/{tag_id}/loaded")
async def tag_loaded(tag_id: int, db: AsyncSession = Depends(get_db)):
    tag = await crud.tag.get_with_items(db, id=tag_id)
    return {"n": len(tag.items)}


@app.post("/tags")
async def new_tag(db: AsyncSession = Depends(get_db)):
    tag = Tag(name="new")
    db.add(tag)
    n = len(tag.items)
    await db.commit()
    return {"n": n}


@app.get("/me")
async def my_id(current_user: User = Depends(get_current_active_user)):
    return {"id": current_user.id}


@app.get("/checked/count")
async def checked_item_count(current_user: User = Depends(RoleChecker("w"))):
    return {"n": len(current_user.items)}


@app.get("/checked/me")
async def checked_id(current_user: User = Depends(RoleChecker("w"))):
    return {"id": current_user.id, "groups": len(current_user.groups)}
"""


def _root(project):  # type: ignore[no-untyped-def]
    return project({"loader_db.py": DB.format(url="sqlite+aiosqlite:///./app.db"), "loader_main.py": MAIN})


EXPECTED = {
    "tag_item_count": "tag.items (may lazy-load: a Tag from loader_db.CRUDBase.get_async()",
    "owner_item_count": "item.owner.items (may lazy-load: a User from loader_db.CRUDBase.get_async()",
    "tag_by_name": "tag.items (may lazy-load: a Tag from loader_db.TagRepo.by_name()",
    "my_item_count": "current_user.items (may lazy-load: a User from the dependency loader_db.get_current_active_user",
    # a callable-class instance's `__call__` is the dependency FastAPI runs
    "checked_item_count": "current_user.items (may lazy-load: a User from the dependency loader_db.RoleChecker.__call__",
    # model code reading the relationship, and a schema validated in the body
    "item_tag_name": "item.tag_name (runs Item.tag_name, which may lazy-load Item.tag: a Item from "
                     "loader_db.CRUDBase.get_async()",
    "item_validated": "ItemOut.tag (may lazy-load where it is validated: a Item from loader_db.CRUDBase.get_async()",
}


@pytest.mark.parametrize("name", EXPECTED)
def test_a_lazy_relationship_read_on_a_loaders_object_is_am314_unverified(project, findings, name):
    found = findings(_root(project), name)
    assert [f["code"] for f in found] == ["AM314"], (name, found)
    assert EXPECTED[name] in str(found[0]["blocking"]), (name, found[0]["blocking"])
    assert "unverified (not cleared)" in found[0]["message"], found[0]["message"]


def test_near_misses_eager_relationships_columns_closure_options_built_objects_and_ids(project, findings):
    root = _root(project)
    for name in ("tag_groups", "owner_groups", "tag_loaded", "new_tag", "my_id", "item_label", "checked_id"):
        assert findings(root, name) == [], name


def test_the_premise_the_flagged_reads_raise(tmp_path):
    db_source = DB.format(url=f"sqlite+aiosqlite:///{tmp_path / 'l.db'}")
    with imported(tmp_path, {"loader_db": db_source, "loader_main": MAIN}) as (db, main):

        async def run() -> list[str]:
            async with db.engine.begin() as conn:
                await conn.run_sync(db.Base.metadata.create_all)
            async with db.SessionLocal() as session:
                session.add_all([db.User(id=1, email="a"), db.Tag(id=1, name="t")])
                session.add(db.Item(id=1, title="i", owner_id=1, tag_id=1))
                await session.commit()
            said = []

            async def mine(session):  # type: ignore[no-untyped-def]
                # the dependencies as FastAPI runs them, on the request's AsyncSession
                current = await db.get_current_active_user(await db.get_current_user(session))
                return await main.my_item_count(current_user=current)

            async def checked(session):  # type: ignore[no-untyped-def]
                current = await db.RoleChecker("w")(await db.get_current_user(session))
                return await main.checked_item_count(current_user=current)

            try:
                for route in (lambda s: main.tag_item_count(1, db=s), mine, lambda s: main.item_tag_name(1, db=s),
                              lambda s: main.item_validated(1, db=s), checked):
                    async with db.SessionLocal() as session:
                        try:
                            await route(session)
                            said.append("")
                        except Exception as error:  # noqa: BLE001 - what it raised is what the test reads
                            text = f"{type(error).__name__} {error}"
                            said.append("MissingGreenlet" if "MissingGreenlet" in text else repr(error))
            finally:
                await db.engine.dispose()
            return said

        said = asyncio.run(run())
    assert said == ["MissingGreenlet"] * 5
