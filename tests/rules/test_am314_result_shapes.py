"""AM314 missing-greenlet through the other shapes an AsyncSession hands its objects in: a
streamed result iterated asynchronously (`await db.stream(stmt)`, `await db.stream_scalars(stmt)`).
`check` said nothing of their lazy loads."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS

STREAMED = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


@router.get("/streamed")
async def streamed(db: AsyncSession):
    result = await db.stream_scalars(select(Book))
    out = []
    async for book in result:
        out.append(book.author.name)
    return out


@router.get("/streamed_inline")
async def streamed_inline(db: AsyncSession):
    return [book.author.name async for book in await db.stream_scalars(select(Book))]


@router.get("/stream_scalars")
async def stream_scalars(db: AsyncSession):
    result = await db.stream(select(Book))
    out = []
    async for book in result.scalars():
        out.append(book.author.name)
    return out


@router.get("/stream_rows")
async def stream_rows(db: AsyncSession):
    out = []
    async for row in await db.stream(select(Book)):
        out.append(row.Book.author.name)
    return out


@router.get("/stream_unpacked")
async def stream_unpacked(db: AsyncSession):
    out = []
    async for (book,) in await db.stream(select(Book)):
        out.append(book.author.name)
    return out


@router.get("/stream_all")
async def stream_all(db: AsyncSession):
    result = await db.stream_scalars(select(Book))
    return [b.author.name for b in await result.all()]


@router.get("/streamed_eager")
async def streamed_eager(db: AsyncSession):
    result = await db.stream_scalars(select(Book).options(selectinload(Book.author)))
    out = []
    async for book in result:
        out.append(book.author.name)
    return out


@router.get("/stream_rows_eager")
async def stream_rows_eager(db: AsyncSession):
    out = []
    async for row in await db.stream(select(Book).options(selectinload(Book.author))):
        out.append(row.Book.author.name)
    return out


@router.get("/streamed_column")
async def streamed_column(db: AsyncSession):
    out = []
    async for book in await db.stream_scalars(select(Book)):
        out.append(book.title)
    return out
"""


@pytest.mark.parametrize(("function", "read"), [
    ("streamed", "book.author"), ("streamed_inline", "book.author"), ("stream_scalars", "book.author"),
    ("stream_rows", "row.Book.author"), ("stream_unpacked", "book.author"), ("stream_all", "b.author"),
])
def test_a_lazy_load_on_a_streamed_object_is_am314(app, findings, function, read):
    found = findings(app(STREAMED, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} (lazy load)" in found[0]["message"], found


@pytest.mark.parametrize("function", ["streamed_eager", "stream_rows_eager", "streamed_column"])
def test_near_miss_a_streamed_object_eager_loaded_or_a_column_is_no_finding(app, findings, function):
    assert findings(app(STREAMED, {"models.py": MODELS}), function) == []

