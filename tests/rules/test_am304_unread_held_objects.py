"""AM304 on a Session reached through a project object that keeps another object whose class the
analysis cannot read: `service.repo.session` where `Service.__init__` keeps `repo`, built from the
route's AsyncSession by a class imported from outside PATH, a factory from there, or a registry
filled at run time. A project class assigning `repo` says nothing of what `repo` keeps: an
unawaited `commit()` or a `query()` there (in the route, or in a method of `Service` it awaits) is
unverified, never passed. Awaited, or on an attribute named like no Session, it stays clear."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS  # the mapped classes the rule tests share

SERVICES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from outside_lib import OutsideHolder

maker = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


async def get_async_db():
    async with maker() as session:
        yield session


class Service:
    def __init__(self, repo: OutsideHolder) -> None:
        self.repo = repo

    async def save(self, obj):
        self.repo.session.add(obj)
        self.repo.session.commit()

    async def save_awaited(self, obj):
        self.repo.session.add(obj)
        await self.repo.session.commit()


async def get_service(db: AsyncSession = Depends(get_async_db)) -> Service:
    return Service(OutsideHolder(db))
"""

ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from models import Book
from outside_lib import make_holder
from services import OutsideHolder, Service, get_async_db, get_service

REGISTRY = {}


@router.post("/built")
async def built(db: AsyncSession = Depends(get_async_db)):
    service = Service(OutsideHolder(db))
    service.repo.session.commit()


@router.post("/dependency")
async def dependency(service: Service = Depends(get_service)):
    service.repo.session.commit()


@router.post("/factory")
async def factory(db: AsyncSession = Depends(get_async_db)):
    service = Service(make_holder(db))
    service.repo.session.commit()


@router.post("/registry")
async def registry(db: AsyncSession = Depends(get_async_db)):
    service = Service(REGISTRY["books"](db))
    service.repo.session.commit()


@router.get("/query")
async def query(service: Service = Depends(get_service)):
    return service.repo.session.query(Book).all()


@router.post("/method")
async def method(service: Service = Depends(get_service)):
    await service.save(Book(title="x", author_id=1))


@router.post("/awaited")
async def awaited(service: Service = Depends(get_service)):
    await service.repo.session.commit()


@router.post("/method-awaited")
async def method_awaited(service: Service = Depends(get_service)):
    await service.save_awaited(Book(title="x", author_id=1))


@router.get("/label")
async def label(service: Service = Depends(get_service)):
    return service.repo.label.strip()
"""


@pytest.mark.parametrize(("function", "call"), [
    ("built", "service.repo.session.commit()"),
    ("dependency", "service.repo.session.commit()"),
    ("factory", "service.repo.session.commit()"),
    ("registry", "service.repo.session.commit()"),
    ("query", "service.repo.session.query()"),
    ("method", "self.repo.session.commit()"),
])
def test_a_session_kept_by_an_unread_object_is_unverified_am304(app, findings, function, call):
    (finding,) = findings(app(ROUTES, {"services.py": SERVICES, "models.py": MODELS}), function)
    assert finding["code"] == "AM304", finding
    ((text),) = [b["call"] for b in finding["blocking"]]
    assert f"`{call}` is called on" in text and "cannot type: it may be a synchronous Session" in text, finding


@pytest.mark.parametrize("function", ["awaited", "method_awaited", "label"])
def test_near_miss_awaited_or_no_session_attribute(app, findings, function):
    assert findings(app(ROUTES, {"services.py": SERVICES, "models.py": MODELS}), function) == []
