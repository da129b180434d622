"""AM338 on an untyped holder built at import on an AsyncSession (`crud = CRUD(maker())`, `def
__init__(self, session): self.db = session`): its awaited methods work on the one AsyncSession
every request shares, as when the `__init__` is annotated. Near miss: the same class built per
request on the route's own AsyncSession."""

from __future__ import annotations

from test_phase2_rules import MODELS  # the mapped classes the rule tests share

SHARED = """
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

maker = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


async def get_async_db():
    async with maker() as session:
        yield session


class CRUD:
    def __init__(self, session):
        self.db = session

    async def get(self, model, id):
        return await self.db.get(model, id)


crud = CRUD(maker())
"""

ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from models import Book
from shared import CRUD, crud, get_async_db


@router.get("/shared/{id}")
async def shared(id: int):
    book = await crud.get(Book, id)
    return {"title": book.title}


@router.get("/own/{id}")
async def own(id: int, db: AsyncSession = Depends(get_async_db)):
    book = await CRUD(db).get(Book, id)
    return {"title": book.title}
"""


def test_an_untyped_holder_built_at_import_on_an_async_session_is_am338(app, findings):
    (finding,) = findings(app(ROUTES, {"shared.py": SHARED, "models.py": MODELS}), "shared")
    assert finding["code"] == "AM338", finding
    assert [(b["line"], b["call"]) for b in finding["blocking"]] == [(17, "crud.get()")], finding


def test_near_miss_built_per_request_on_the_routes_session(app, findings):
    assert findings(app(ROUTES, {"shared.py": SHARED, "models.py": MODELS}), "own") == []
