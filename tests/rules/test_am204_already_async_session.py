"""AM204 already-async-session: a route that already takes an AsyncSession is left as it is."""

from __future__ import annotations

ASYNC_ROUTE = """
from sqlalchemy.ext.asyncio import AsyncSession


@router.get("/async-titles")
async def async_titles(session: AsyncSession):
    return list(await session.scalars(select(Book.title)))


@router.get("/titles")
def read_titles(session: session_dependency):
    return list(session.scalars(select(Book.title)))
"""


def test_a_route_on_an_async_session_is_unchanged_with_am204(phase2, entry):
    found = entry(phase2(ASYNC_ROUTE), "async_titles")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM204"])


def test_near_miss_a_route_on_the_synchronous_session_moves(phase2, entry):
    found = entry(phase2(ASYNC_ROUTE), "read_titles")
    assert found["action"] == "migrate" and "AM204" not in found["codes"], found


REPOSITORY_ROUTE = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession


class TitlesAsync:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self):
        return list(await self.session.scalars(select(Book.title)))


async def get_titles(session: AsyncSession) -> TitlesAsync:
    return TitlesAsync(session)


@router.get("/titles")
async def read_titles(titles: TitlesAsync = Depends(get_titles)):
    return await titles.all()
"""


def test_a_route_on_an_async_session_through_its_dependency_is_unchanged_with_am204(phase2, entry):
    found = entry(phase2(REPOSITORY_ROUTE), "read_titles")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM204"]), found
    assert "through its dependency api.items.get_titles" in found["reasons"][0]


UNIT_OF_WORK_ROUTE = """
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

AsyncSessionLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"), expire_on_commit=False)


class UnitOfWork:
    async def __aenter__(self) -> "UnitOfWork":
        self.session: AsyncSession = AsyncSessionLocal()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.close()


@router.get("/uow-titles")
async def uow_titles():
    async with UnitOfWork() as uow:
        return list(await uow.session.scalars(select(Book.title)))


@router.get("/opened-titles")
async def opened_titles():
    async with AsyncSessionLocal() as session:
        return list(await session.scalars(select(Book.title)))


@router.get("/version")
async def version():
    return {"version": 1}
"""


def test_a_route_opening_an_async_session_in_a_unit_of_work_is_unchanged_with_am204(phase2, entry):
    found = entry(phase2(UNIT_OF_WORK_ROUTE), "uow_titles")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM204"]), found
    assert "already uses an AsyncSession (`AsyncSessionLocal()` at api/items.py:" in found["reasons"][0], found
    assert "in api.items.UnitOfWork.__aenter__" in found["reasons"][0], found
    found = entry(phase2(UNIT_OF_WORK_ROUTE), "opened_titles")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM204"]), found
    assert "`async with AsyncSessionLocal() as session`" in found["reasons"][0], found


def test_near_miss_a_route_opening_no_session_has_no_session_work(phase2, entry):
    found = entry(phase2(UNIT_OF_WORK_ROUTE), "version")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM205"]), found
