"""AM314 after the route commits its AsyncSession through attributes of an object holding it.

`await repo.session.commit()` on a repository a dependency builds, and `await
self.uow.session.commit()` (or `await self.uow.commit()`) in a class-based view keeping a unit of
work, expire what the Session loaded just as `await db.commit()` does: the read after refreshes
the row and raises MissingGreenlet (returned under a response model, while FastAPI serialises
it). `check` read only a commit on a Session the route names, or one a project method makes, and
passed the first two. Near misses: a refresh through the same chain, `expire_on_commit=False`
(where no column the database computes on UPDATE is read), and a chain that holds no Session."""

from __future__ import annotations

DB = """
from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, func
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
    def __init__(self, session: AsyncSession):
        self.session = session
        self.audit = Audit()

    async def get(self, item_id: int) -> Optional[Item]:
        return await self.session.get(Item, item_id)


class Audit:
    async def commit(self) -> None:
        return None


class UnitOfWork:
    def __init__(self, session: AsyncSession):
        self.session = session
        self.items = ItemRepo(session)

    async def commit(self) -> None:
        await self.session.commit()
"""
MAIN = """
from datetime import datetime
from typing import Optional

from fastapi import APIRouter, Depends, FastAPI
from fastapi_utils.cbv import cbv
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import ItemRepo, UnitOfWork, get_db

app = FastAPI()
router = APIRouter()


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    stock: int
    updated_at: Optional[datetime]


async def get_repo(db: AsyncSession = Depends(get_db)) -> ItemRepo:
    return ItemRepo(db)


async def get_uow(db: AsyncSession = Depends(get_db)) -> UnitOfWork:
    return UnitOfWork(db)


@router.post("/a/{item_id}")
async def chained(item_id: int, repo: ItemRepo = Depends(get_repo)) -> dict:
    item = await repo.get(item_id)
    item.stock += 1
    await repo.session.commit()
    return {"stock": item.stock}


@router.post("/b/{item_id}", response_model=ItemOut)
async def returned(item_id: int, repo: ItemRepo = Depends(get_repo)):
    item = await repo.get(item_id)
    item.stock += 1
    await repo.session.commit()
    return item


@router.post("/c/{item_id}")
async def refreshed(item_id: int, repo: ItemRepo = Depends(get_repo)) -> dict:
    item = await repo.get(item_id)
    item.stock += 1
    await repo.session.commit()
    await repo.session.refresh(item)
    return {"stock": item.stock}


@router.post("/d/{item_id}")
async def no_session(item_id: int, repo: ItemRepo = Depends(get_repo)) -> dict:
    item = await repo.get(item_id)
    await repo.audit.commit()
    return {"stock": item.stock}


@cbv(router)
class UowView:
    def __init__(self, uow: UnitOfWork = Depends(get_uow)):
        self.uow = uow

    @router.post("/e/{item_id}")
    async def bump(self, item_id: int) -> dict:
        item = await self.uow.items.get(item_id)
        item.stock += 1
        await self.uow.commit()
        return {"stock": item.stock}

    @router.post("/f/{item_id}")
    async def bump_session(self, item_id: int) -> dict:
        item = await self.uow.items.get(item_id)
        item.stock += 1
        await self.uow.session.commit()
        return {"stock": item.stock}


app.include_router(router)
"""


def _root(project, keywords: str = ""):  # type: ignore[no-untyped-def]
    return project({"app/__init__.py": "", "app/db.py": DB.format(keywords=keywords), "app/main.py": MAIN})


def test_a_read_after_a_commit_through_a_holder_attribute_is_am314(project, findings):
    root = _root(project)
    found = findings(root, "chained")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "item.stock (expired by the `repo.session.commit()` at line 34)" in found[0]["message"], found
    found = findings(root, "returned")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "`item` returned, whose fields the response model ItemOut reads" in found[0]["message"], found


def test_a_view_committing_the_session_its_unit_of_work_holds_is_am314_with_the_expiry_known(project, findings):
    root = _root(project)
    for name, written in (("UowView.bump", "`self.uow.commit()`, which commits `self.uow.session`"),
                          ("UowView.bump_session", "`self.uow.session.commit()` at line 78")):
        found = findings(root, name)
        assert [f["code"] for f in found] == ["AM314"], found
        assert written in found[0]["message"] and "cannot read" not in found[0]["message"], found


def test_near_miss_a_refresh_through_the_chain_and_a_chain_holding_no_session(project, findings):
    root = _root(project)
    assert findings(root, "refreshed") == []
    assert findings(root, "no_session") == []


def test_near_miss_a_sessionmaker_keeping_objects_leaves_only_the_generated_column(project, findings):
    root = _root(project, ", expire_on_commit=False")
    for name in ("chained", "UowView.bump", "UowView.bump_session"):
        assert findings(root, name) == [], name
    # the UPDATE's flush expires `updated_at` whatever expire_on_commit says
    found = findings(root, "returned")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "ItemOut.updated_at" in found[0]["message"], found
