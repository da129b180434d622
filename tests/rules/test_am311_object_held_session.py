"""AM311 and AM302 on an AsyncSession a route reaches through another object's attribute: a
unit of work or service a dependency gives (`holder.session`), one the route builds
(`Holder(db)`), one an object holds (`service.repo.session`). The shape phase two itself
writes; code added by hand afterwards that forgets an `await` there, or hands that Session to
synchronous code, loses its writes with a 200 exactly as through a parameter."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS  # the mapped classes the rule tests share

HOLDERS = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from models import Book

maker = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


async def get_async_db():
    async with maker() as session:
        yield session


class Holder:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.label = "books"


class Service:
    def __init__(self, repo: Holder) -> None:
        self.repo = repo


class SyncHolder:
    def __init__(self, session: Session) -> None:
        self.session = session


async def get_holder(db: AsyncSession = Depends(get_async_db)) -> Holder:
    return Holder(db)


def get_service(holder: Holder = Depends(get_holder)) -> Service:
    return Service(holder)


def add_book(db: Session, title: str) -> None:
    db.add(Book(title=title))
    db.commit()
"""

ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from holders import Holder, Service, SyncHolder, add_book, get_async_db, get_holder, get_service
from models import Book


@router.post("/dependency/{id}")
async def through_dependency(id: int, holder: Holder = Depends(get_holder)):
    book = await holder.session.get(Book, id)
    book.title = "renamed"
    holder.session.commit()


@router.post("/built/{id}")
async def built_here(id: int, db: AsyncSession = Depends(get_async_db)):
    holder = Holder(db)
    book = await holder.session.get(Book, id)
    book.title = "renamed"
    holder.session.commit()


@router.post("/nested/{id}")
async def nested(id: int, service: Service = Depends(get_service)):
    book = await service.repo.session.get(Book, id)
    book.title = "renamed"
    service.repo.session.commit()


@router.post("/handed")
async def handed(holder: Holder = Depends(get_holder)):
    add_book(holder.session, "new")


@router.post("/awaited/{id}")
async def awaited(id: int, holder: Holder = Depends(get_holder)):
    book = await holder.session.get(Book, id)
    book.title = "renamed"
    await holder.session.commit()


@router.post("/sync-holder")
async def sync_holder(session: session_dependency):
    holder = SyncHolder(session)
    holder.session.commit()


@router.post("/not-the-session")
async def not_the_session(holder: Holder = Depends(get_holder)):
    holder.label.strip()
"""


@pytest.mark.parametrize(("function", "line", "call"), [
    ("through_dependency", 19, "holder.session.commit()"),
    ("built_here", 27, "holder.session.commit()"),
    ("nested", 34, "service.repo.session.commit()"),
])
def test_an_unawaited_coroutine_on_an_objects_async_session_is_am311(app, findings, function, line, call):
    root = app(ROUTES, {"holders.py": HOLDERS, "models.py": MODELS})
    (finding,) = findings(root, function)
    assert finding["code"] == "AM311", finding
    assert (line, call) in [(b["line"], b["call"]) for b in finding["blocking"]], finding


def test_an_objects_async_session_handed_to_sync_session_work_is_am302(app, findings):
    (finding,) = findings(app(ROUTES, {"holders.py": HOLDERS, "models.py": MODELS}), "handed")
    assert finding["code"] == "AM302", finding
    assert [(b["line"], b["call"]) for b in finding["blocking"]] == [(39, "holders.add_book(...)")], finding
    assert "reaches an AsyncSession through an object (`holder.session`)" in finding["message"], finding


@pytest.mark.parametrize("function", ["awaited", "sync_holder", "not_the_session"])
def test_near_miss_awaited_a_sync_sessions_holder_or_another_attribute(app, findings, function):
    # the synchronous holder's commit blocks the event loop (AM301): a finding, but not these
    found = findings(app(ROUTES, {"holders.py": HOLDERS, "models.py": MODELS}), function)
    assert [f for f in found if f["code"] in ("AM311", "AM302")] == [], found
