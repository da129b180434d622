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
