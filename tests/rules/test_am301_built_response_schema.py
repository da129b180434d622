"""AM301 blocking-session on an `async def` route returning a schema it builds from keywords
(`return BookStats(book_id=book_id, author=n)`, `author: int`): the reason named "line N
(BookStats.author (may lazy-load while the response is serialised))", at the decorator's line, and
suggested `selectinload`, because a model of the project has a relationship of that name. The
schema holds what it validated where it was built; serialising it reads no ORM object, so the
reason names the route's real Session work only. Near misses: the ORM object returned under a
response model nesting the relationship, and a schema built from `**row`, still may lazy-load."""

from __future__ import annotations

import pytest

ROUTES = """
import asyncio

from fastapi import Depends
from pydantic import BaseModel
from sqlalchemy import func, select

from models import Book


class BookStats(BaseModel):
    book_id: int
    author: int


class AuthorOut(BaseModel):
    name: str


class BookOut(BaseModel):
    title: str
    author: AuthorOut


def count_authors(db, book_id: int) -> int:
    return db.scalar(select(func.count()).where(Book.id == book_id)) or 0


@router.get("/{book_id}/stats", response_model=BookStats)
async def book_stats(book_id: int, db: session_dependency):
    await asyncio.sleep(0)
    n = count_authors(db, book_id)
    return BookStats(book_id=book_id, author=n)


@router.get("/{book_id}/row", response_model=BookStats)
async def book_row(book_id: int, db: session_dependency):
    await asyncio.sleep(0)
    row = {"book_id": book_id, "author": count_authors(db, book_id)}
    return BookStats(**row)


@router.get("/{book_id}", response_model=BookOut)
async def book(book_id: int, db: session_dependency):
    await asyncio.sleep(0)
    return db.get(Book, book_id)
"""


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    from test_phase2_rules import MODELS

    return app(ROUTES, {"models.py": MODELS})


def test_a_schema_built_from_keywords_is_no_lazy_load_when_serialised(root, findings, reported):
    found = findings(root, "book_stats")
    assert [f["code"] for f in found] == ["AM301"], found
    message = found[0]["message"]
    assert "count_authors(...)" in message, message
    assert "BookStats.author" not in message and "selectinload" not in message, message
    assert not any("BookStats.author" in r for r in reported(root, "book_stats")["reasons"])


@pytest.mark.parametrize(
    ("function", "read"), [("book", "BookOut.author"), ("book_row", "BookStats.author")],
    ids=["near-miss-orm-object", "near-miss-splatted-row"],
)
def test_near_miss_what_the_response_model_reads_on_orm_objects(root, findings, function, read):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM301"], found
    assert read in found[0]["message"], found[0]["message"]
