"""AM272 unverified-session-work: a route whose Session the analysis cannot type is not migrated,
and not reported as doing no Session work."""

from __future__ import annotations

ROUTES = """
from fastapi import Request


@router.post("/books")
async def add_book(title: str, request: Request):
    db = request.state.db
    db.add(Book(title=title))
    db.commit()


@router.get("/hits")
async def hits(request: Request):
    return {"hits": request.state.hits + 1}
"""


def test_work_on_an_untyped_session_blocks_with_am272(phase2, entry):
    found = entry(phase2(ROUTES), "add_book")
    assert (found["action"], found["codes"]) == ("blocked", ["AM272"]), found
    assert "`db.commit()` is called on `db`, which the analysis cannot type" in found["reasons"][0]


def test_near_miss_a_route_reading_request_state_without_calls_is_unchanged(phase2, entry):
    found = entry(phase2(ROUTES), "hits")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM205"]), found


# The untyped Session reached through the coroutines a route awaits: they run on the event loop as
# the route does, and the route was "does no synchronous Session work".
AWAITED = """
import asyncio

from fastapi import Request


def count_rows(request: Request) -> int:
    return request.state.db.scalar(select(func.count(Book.id)))


async def counted(request: Request) -> int:
    return count_rows(request)


async def labelled(request: Request) -> str:
    return request.state.label


@router.get("/books/count")
async def book_count(request: Request):
    (n,) = await asyncio.gather(counted(request))
    return {"n": n}


@router.get("/label")
async def label(request: Request):
    return {"label": await labelled(request)}
"""


def test_untyped_session_work_below_an_awaited_coroutine_blocks_with_am272(phase2, entry):
    document = phase2(AWAITED, None)
    found = entry(document, "book_count")
    assert (found["action"], found["codes"]) == ("blocked", ["AM272"]), found
    assert "calls counted -> count_rows -> " in found["reasons"][0], found
    # near miss: an awaited coroutine that makes no call on an untyped value
    found = entry(document, "label")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM205"]), found
