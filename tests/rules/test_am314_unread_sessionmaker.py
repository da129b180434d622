"""AM314 after a direct `await db.commit()` on the handler's own AsyncSession whose sessionmaker
the analysis cannot read (opened by a factory imported from outside PATH, or by one kept on the
application's state): whether the commit expired what it holds is not known, so a read after it is
reported unverified, never passed. A refresh between, or a read before the commit, stays clear."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS  # the mapped classes the rule tests share

DEPENDENCIES = """
from fastapi import Request

from outside_lib import session_factory


async def get_db():
    async with session_factory() as session:
        yield session


async def get_state_db(request: Request):
    async with request.app.state.maker() as session:
        yield session
"""

ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from deps import get_db, get_state_db
from models import Book


@router.post("/commit/{id}")
async def commit(id: int, db: AsyncSession = Depends(get_db)):
    book = await db.get(Book, id)
    book.title = "x"
    await db.commit()
    return {"title": book.title}


@router.post("/state")
async def state(db: AsyncSession = Depends(get_state_db)):
    book = Book(title="x", author_id=1)
    db.add(book)
    await db.commit()
    return {"id": book.id}


@router.post("/refreshed/{id}")
async def refreshed(id: int, db: AsyncSession = Depends(get_db)):
    book = await db.get(Book, id)
    book.title = "x"
    await db.commit()
    await db.refresh(book)
    return {"title": book.title}


@router.post("/before/{id}")
async def before(id: int, db: AsyncSession = Depends(get_db)):
    book = await db.get(Book, id)
    title = book.title
    await db.commit()
    return {"title": title}
"""


@pytest.mark.parametrize(("function", "line", "read"), [
    ("commit", 20, "book.title"),
    ("state", 28, "book.id"),
])
def test_a_read_after_a_commit_from_an_unread_sessionmaker_is_unverified_am314(app, findings, function, line, read):
    (finding,) = findings(app(ROUTES, {"deps.py": DEPENDENCIES, "models.py": MODELS}), function)
    assert finding["code"] == "AM314", finding
    ((at, call),) = [(b["line"], b["call"]) for b in finding["blocking"]]
    assert at == line and call.startswith(read) and "unverified, not cleared" in call, finding
    assert "whose sessionmaker the analysis cannot read" in finding["message"], finding


@pytest.mark.parametrize("function", ["refreshed", "before"])
def test_near_miss_refreshed_after_the_commit_or_read_before_it(app, findings, function):
    assert findings(app(ROUTES, {"deps.py": DEPENDENCIES, "models.py": MODELS}), function) == []
