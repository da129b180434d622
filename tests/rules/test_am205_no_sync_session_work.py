"""AM205 no-sync-session-work: a route with no synchronous Session work is left alone."""

from __future__ import annotations

ROUTES = """
@router.get("/health")
def health():
    return {"ok": True}


@router.get("/titles")
def read_titles(session: session_dependency):
    return list(session.scalars(select(Book.title)))
"""


def test_a_route_without_session_work_is_unchanged_with_am205(phase2, entry):
    found = entry(phase2(ROUTES), "health")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM205"])


def test_near_miss_a_route_with_session_work_moves(phase2, entry):
    found = entry(phase2(ROUTES), "read_titles")
    assert found["action"] == "migrate" and "AM205" not in found["codes"], found


ENGINE_ROUTE = """
from sqlalchemy import text

from db.engine import engine


@router.get("/health/db")
async def health_db():
    with engine.connect() as conn:
        conn.execute(text("select 1"))
    return {"ok": True}
"""


def test_an_unchanged_route_that_still_blocks_says_so_as_check_does(phase2, entry):
    # No Session work for phase two to move, but not an all-clear: the engine's connection blocks.
    found = entry(phase2(ENGINE_ROUTE), "health_db")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM205"])
    assert "engine work at line" in found["reasons"][0] and "AM306" in found["reasons"][0], found["reasons"]
    assert "still blocks" not in entry(phase2(ROUTES), "health")["reasons"][0]


OFFLOADED_GLOBAL = """
import asyncio

from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

db_session = scoped_session(database_sessionmaker)


def count_books() -> int:
    try:
        return db_session.scalar(select(func.count()).select_from(Book))
    finally:
        db_session.remove()


@router.get("/count")
async def book_count():
    return {"count": await asyncio.to_thread(count_books)}
"""


def test_an_unchanged_route_offloading_session_work_does_not_say_it_does_none(phase2, entry):
    # Its Session work runs in a worker thread on a global Session: not "no Session work".
    found = entry(phase2(OFFLOADED_GLOBAL), "book_count")
    assert (found["action"], found["codes"]) == ("unchanged", ["AM205"]), found
    reason = found["reasons"][0]
    assert reason.startswith("does no synchronous Session work on the event loop: its Session work runs in a worker "
                             "thread (line "), reason
    assert "phase two leaves it synchronous" in reason, reason
