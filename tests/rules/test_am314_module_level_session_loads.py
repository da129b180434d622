"""AM314 on what a module-level AsyncSession loads (`db = SessionLocal()` at import, AM338's
process-wide Session): `book = await db.get(Book, id)` then `book.author` is the lazy load outside
any greenlet, and a read after `await db.commit()` refreshes the expired row, exactly as on the
route's own AsyncSession. Only the awaited queries of such a name count: a synchronous module-level
Session is never awaited. Near misses: the relationship eager-loaded, and a read before the commit."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS  # the mapped classes the rule tests share

SHARED = """
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

maker = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))
db = maker()
"""

ROUTES = """
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import Book
from shared import db


@router.get("/get/{id}")
async def lazy_get(id: int):
    book = await db.get(Book, id)
    return {"author": book.author.name}


@router.get("/scalars")
async def lazy_scalars():
    books = (await db.scalars(select(Book))).all()
    return [b.author.name for b in books]


@router.get("/result")
async def lazy_result():
    result = await db.execute(select(Book))
    return [b.author.name for b in result.scalars()]


@router.put("/expired/{id}")
async def expired(id: int):
    book = await db.get(Book, id)
    book.title = "x"
    await db.commit()
    return {"title": book.title}


@router.get("/eager/{id}")
async def eager(id: int):
    book = await db.get(Book, id, options=[selectinload(Book.author)])
    return {"author": book.author.name}


@router.put("/before/{id}")
async def before(id: int):
    book = await db.get(Book, id)
    title = book.title
    await db.commit()
    return {"title": title}
"""


def _codes(found: list[dict]) -> dict[str, dict]:
    return {f["code"]: f for f in found}


@pytest.mark.parametrize(("function", "read"), [
    ("lazy_get", "book.author (lazy load)"),
    ("lazy_scalars", "b.author (lazy load)"),
    ("lazy_result", "b.author (lazy load)"),
    ("expired", "book.title (expired by the db.commit()"),
])
def test_what_a_module_level_async_session_loads_is_read_as_on_the_routes_own(app, findings, function, read):
    found = _codes(findings(app(ROUTES, {"shared.py": SHARED, "models.py": MODELS}), function))
    assert set(found) == {"AM314", "AM338"}, found
    assert [b["call"] for b in found["AM314"]["blocking"] if b["call"].startswith(read)], found["AM314"]


@pytest.mark.parametrize("function", ["eager", "before"])
def test_near_miss_eager_loaded_or_read_before_the_commit(app, findings, function):
    # still one Session for every request (AM338), but no read it cannot serve
    found = _codes(findings(app(ROUTES, {"shared.py": SHARED, "models.py": MODELS}), function))
    assert set(found) == {"AM338"}, found
