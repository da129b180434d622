"""AM337 await-in-generator-expression-iterated: an `await` in a generator expression of an
`async def` handler, or of a coroutine it awaits, makes an async generator `any()` cannot iterate."""

from __future__ import annotations

import asyncio

import pytest

ROUTES = """
from sqlalchemy.ext.asyncio import AsyncSession

from models import Book


class BookRepo:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, book_id: int):
        return await self.session.get(Book, book_id)

    async def all_ids(self) -> list[int]:
        return [1, 2]


async def all_present(repo: BookRepo, ids: list[int]) -> bool:
    return all(await repo.get(i) is not None for i in ids)


@router.get("/element")
async def element(db: AsyncSession):
    repo = BookRepo(db)
    return any(await repo.get(i) is None for i in (1, 2))


@router.get("/condition")
async def condition(db: AsyncSession):
    repo = BookRepo(db)
    return sum(1 for i in (1, 2) if await repo.get(i) is None)


@router.get("/through-helper")
async def through_helper(db: AsyncSession):
    return await all_present(BookRepo(db), [1, 2])


@router.get("/listed")
async def listed(db: AsyncSession):
    repo = BookRepo(db)
    return any([await repo.get(i) is None for i in (1, 2)])


@router.get("/first-iterable")
async def first_iterable(db: AsyncSession):
    repo = BookRepo(db)
    return sorted(i for i in await repo.all_ids())


@router.get("/async-for")
async def async_for(db: AsyncSession):
    repo = BookRepo(db)
    return [book async for book in (await repo.get(i) for i in (1, 2))]


@router.get("/beside-async-for")
async def beside_async_for(db: AsyncSession):
    repo = BookRepo(db)
    return [b async for b in (await repo.get(i) for i in (1, 2))], any(await repo.get(i) is None for i in (1, 2))


@router.get("/async-for-split")
async def async_for_split(db: AsyncSession):
    repo = BookRepo(db)
    found = []
    async for book in (
        await repo.get(i) for i in (1, 2)
    ):
        found.append(book)
    return found
"""


@pytest.mark.parametrize("function", ["element", "condition", "through_helper", "beside_async_for"])
def test_an_await_in_a_generator_expression_is_am337(app, findings, function):
    found = findings(app(ROUTES), function)
    assert [f["code"] for f in found] == ["AM337"], found
    assert "await repo.get(...) in a generator expression" in found[0]["message"], found


def test_the_async_for_exemption_is_per_generator_expression_not_per_line(app, findings):
    # one line: the expression `async for` iterates is exempt, the one any() iterates is not
    found = findings(app(ROUTES), "beside_async_for")
    assert [len(f["blocking"]) for f in found] == [1], found


@pytest.mark.parametrize("function", ["listed", "first_iterable", "async_for", "async_for_split"])
def test_near_miss_a_list_comprehension_the_first_iterable_or_async_for_is_no_finding(app, findings, function):
    assert findings(app(ROUTES), function) == []


def test_the_premise_any_over_an_awaiting_generator_expression_raises_type_error():
    async def get(i: int) -> int | None:
        return None if i > 1 else i

    async def element() -> bool:
        return any(await get(i) is None for i in (1, 2))

    async def listed() -> bool:
        return any([await get(i) is None for i in (1, 2)])

    with pytest.raises(TypeError, match="async_generator"):
        asyncio.run(element())
    assert asyncio.run(listed()) is True
