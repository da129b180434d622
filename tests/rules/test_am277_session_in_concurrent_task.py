"""AM277 session-in-concurrent-task: a coroutine given the request's Session and scheduled beside
the request's own work blocks its route."""

from __future__ import annotations

HELPER = """
import asyncio


async def count(session: Session) -> int:
    return session.scalar(select(func.count(Book.id)))


async def remote() -> int:
    return 1
"""


def test_a_session_coroutine_in_gather_blocks_the_route_with_am277(phase2, entry):
    document = phase2(
        HELPER
        + """

@router.get("/n")
async def both(session: session_dependency):
    n, m = await asyncio.gather(count(session), remote())
    return n + m
"""
    )
    found = entry(document, "both")
    assert (found["action"], found["codes"]) == ("blocked", ["AM277"]), found
    assert "hands `api.items.count()`, given the Session `session`, to `asyncio.gather()`" in found["reasons"][0]
    assert document["files_changed"] == []


def test_near_miss_gather_of_coroutines_without_the_session_migrates(phase2, entry):
    document = phase2(
        HELPER
        + """

@router.get("/n")
async def both(session: session_dependency):
    n = await count(session)
    m, k = await asyncio.gather(remote(), remote())
    return n + m + k
"""
    )
    found = entry(document, "both")
    assert found["action"] == "migrate" and "AM277" not in found["codes"], found
