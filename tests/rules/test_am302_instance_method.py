"""AM302 mixed-session through an instance: a route hands its AsyncSession to a synchronous method
of an object (a module-level CRUD instance, one a dependency gives, one a view's instance holds,
a classmethod or staticmethod). As with a plain function, the method's Session calls give
coroutines nothing awaits: `db.get(...)` is a coroutine, never None, so a missing row reads as found."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS  # the mapped classes the rule tests share

CRUD = """
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from models import Book


class CRUDBase:
    def __init__(self, model: type) -> None:
        self.model = model

    def get(self, db: Session, id: Any):
        return db.get(self.model, id)

    async def aget(self, db: AsyncSession, id: Any):
        return await db.get(self.model, id)

    def stage(self, db: AsyncSession, obj: Any) -> None:
        db.add(obj)

    @classmethod
    def count(cls, db: Session) -> int:
        return db.execute(select(1)).scalar_one()

    @staticmethod
    def first(db: Session):
        return db.scalars(select(Book)).first()


book = CRUDBase(Book)


def get_repo() -> CRUDBase:
    return CRUDBase(Book)
"""

ROUTES = """
from typing import Any

from fastapi import Depends
from fastapi_utils.cbv import cbv
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

import crud
from crud import CRUDBase, get_repo

maker = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


async def get_async_db():
    async with maker() as session:
        yield session


@router.get("/singleton/{id}")
async def singleton(id: int, db: AsyncSession):
    return {"exists": crud.book.get(db, id) is not None}


@router.get("/dependency/{id}")
async def dependency(id: int, db: AsyncSession, repo: CRUDBase = Depends(get_repo)):
    return {"exists": repo.get(db, id) is not None}


@router.get("/classmethod")
async def through_classmethod(db: AsyncSession):
    return {"n": CRUDBase.count(db)}


@router.get("/staticmethod")
async def through_staticmethod(db: AsyncSession):
    return {"first": CRUDBase.first(db)}


@router.get("/awaited/{id}")
async def awaited(id: int, db: AsyncSession):
    return {"exists": await crud.book.aget(db, id) is not None}


@router.get("/awaited-dependency/{id}")
async def awaited_dependency(id: int, db: AsyncSession, repo: CRUDBase = Depends(get_repo)):
    return {"exists": await repo.aget(db, id) is not None}


@router.post("/staged")
async def staged(obj: Any, db: AsyncSession):
    crud.book.stage(db, obj)
    await db.commit()


@cbv(router)
class Books:
    db: AsyncSession = Depends(get_async_db)
    repo: CRUDBase = Depends(get_repo)

    @router.get("/view/{id}")
    async def held(self, id: int):
        return {"exists": self.repo.get(self.db, id) is not None}

    @router.get("/view-awaited/{id}")
    async def held_awaited(self, id: int):
        return {"exists": await self.repo.aget(self.db, id) is not None}
"""


@pytest.mark.parametrize(("function", "line", "call"), [
    ("singleton", 27, "crud.CRUDBase.get(...)"),
    ("dependency", 32, "crud.CRUDBase.get(...)"),
    ("through_classmethod", 37, "crud.CRUDBase.count(...)"),
    ("through_staticmethod", 42, "crud.CRUDBase.first(...)"),
    ("Books.held", 68, "crud.CRUDBase.get(...)"),
])
def test_an_async_session_handed_to_a_sync_method_is_am302(app, findings, function, line, call):
    root = app(ROUTES, {"crud.py": CRUD, "models.py": MODELS})
    (finding,) = findings(root, function)
    assert finding["code"] == "AM302", finding
    assert (line, call) in [(b["line"], b["call"]) for b in finding["blocking"]], finding
    assert "hands its AsyncSession to synchronous code" in finding["message"], finding


@pytest.mark.parametrize("function", ["awaited", "awaited_dependency", "Books.held_awaited", "staged"])
def test_near_miss_an_awaited_coroutine_method_or_one_doing_no_session_io(app, findings, function):
    # `stage` takes the AsyncSession but only calls `add`, which AsyncSession has as a plain method
    assert findings(app(ROUTES, {"crud.py": CRUD, "models.py": MODELS}), function) == []
