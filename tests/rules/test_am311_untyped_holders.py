"""AM311 and AM302 on the AsyncSession an untyped repository or unit of work keeps: no annotation
anywhere (`def __init__(self, session): self.session = session`), every construction the project
makes handing it an AsyncSession (`Repo(db)` on the route's own, in a dependency too). Its methods'
unawaited `self.session.commit()` (a plain `def` one, an `async def` one, a unit of work's
`__aexit__`) lose the write with a 200, and a synchronous-only method (`self.session.query`)
raises AttributeError, exactly as when the `__init__` is annotated."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS  # the mapped classes the rule tests share

REPOSITORIES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from db.engine import get_db_session

maker = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


async def get_async_db():
    async with maker() as session:
        yield session


class Repo:
    def __init__(self, session):
        self.session = session

    def save(self, obj):
        self.session.add(obj)
        self.session.commit()

    async def asave(self, obj):
        self.session.add(obj)
        self.session.commit()

    async def asave_awaited(self, obj):
        self.session.add(obj)
        await self.session.commit()

    def count(self):
        return self.session.query(1).count()


class UnitOfWork:
    def __init__(self, session):
        self.session = session

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.session.commit()


class SyncOnly:
    def __init__(self, session):
        self.session = session

    async def asave(self, obj):
        self.session.add(obj)
        self.session.commit()


async def get_repo(db: AsyncSession = Depends(get_async_db)):
    return Repo(db)


def sync_only(db=Depends(get_db_session)):
    return SyncOnly(db)
"""

ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from repos import Repo, UnitOfWork, get_async_db, get_repo, sync_only
from models import Book


@router.post("/sync-method")
async def sync_method(db: AsyncSession = Depends(get_async_db)):
    Repo(db).save(Book(title="x", author_id=1))


@router.post("/async-method")
async def async_method(db: AsyncSession = Depends(get_async_db)):
    repo = Repo(db)
    await repo.asave(Book(title="x", author_id=1))


@router.post("/dependency")
async def dependency(repo=Depends(get_repo)):
    await repo.asave(Book(title="x", author_id=1))


@router.post("/unit-of-work")
async def unit_of_work(db: AsyncSession = Depends(get_async_db)):
    async with UnitOfWork(db) as uow:
        uow.session.add(Book(title="x", author_id=1))


@router.get("/count")
async def count(db: AsyncSession = Depends(get_async_db)):
    return Repo(db).count()


@router.post("/awaited")
async def awaited(db: AsyncSession = Depends(get_async_db)):
    await Repo(db).asave_awaited(Book(title="x", author_id=1))


@router.post("/sync-only")
async def sync_built(repo=Depends(sync_only)):
    await repo.asave(Book(title="x", author_id=1))
"""


@pytest.mark.parametrize(("function", "where"), [
    ("sync_method", "repos.Repo.save"),
    ("async_method", "repos.Repo.asave"),
    ("dependency", "repos.Repo.asave"),
    ("unit_of_work", "repos.UnitOfWork.__aexit__"),
])
def test_an_untyped_holders_unawaited_commit_is_am311(app, findings, function, where):
    (finding,) = findings(app(ROUTES, {"repos.py": REPOSITORIES, "models.py": MODELS}), function)
    assert finding["code"] == "AM311", finding
    assert [b["call"] for b in finding["blocking"]] == ["self.session.commit()"], finding
    assert f"self.session.commit() in {where}" in finding["message"], finding


def test_an_untyped_holders_synchronous_only_method_is_am302(app, findings):
    (finding,) = findings(app(ROUTES, {"repos.py": REPOSITORIES, "models.py": MODELS}), "count")
    assert finding["code"] == "AM302", finding
    assert [b["call"] for b in finding["blocking"]] == ["self.session.query()"], finding


@pytest.mark.parametrize("function", ["awaited", "sync_built"])
def test_near_miss_awaited_or_built_on_a_synchronous_session(app, findings, function):
    # `SyncOnly` is built on a synchronous Session only: its unawaited commit runs (AM301's, not AM311's)
    found = findings(app(ROUTES, {"repos.py": REPOSITORIES, "models.py": MODELS}), function)
    assert [f for f in found if f["code"] in ("AM311", "AM302")] == [], found
