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
