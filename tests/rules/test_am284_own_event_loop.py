"""AM284 own-event-loop: a plain function phase two would make `async def` that starts an event
loop of its own blocks its route."""

from __future__ import annotations

HELPERS = """
import asyncio


async def notify() -> None:
    await asyncio.sleep(0)


def ping() -> None:
    asyncio.run(notify())


def add_book(session: Session, title: str) -> None:
    session.add(Book(title=title, author_id=1))
    session.commit()
"""


def test_a_def_route_calling_a_helper_that_runs_a_loop_blocks_with_am284(phase2, entry):
    document = phase2(
        HELPERS
        + """

@router.post("/books")
def add(title: str, session: session_dependency):
    add_book(session, title)
    ping()
"""
    )
    found = entry(document, "add")
    assert (found["action"], found["codes"]) == ("blocked", ["AM284"]), found
    assert "`api.items.ping()` (line" in found["reasons"][0] and "runs `asyncio.run()` at api/items.py:" in \
        found["reasons"][0], found["reasons"]
    assert document["files_changed"] == []


def test_near_miss_a_loop_run_in_a_thread_the_route_offloads_to_migrates(phase2, entry):
    document = phase2(
        HELPERS
        + """

@router.post("/books")
async def add(title: str, session: session_dependency):
    add_book(session, title)
    await asyncio.to_thread(ping)
"""
    )
    found = entry(document, "add")
    assert found["action"] == "migrate" and "AM284" not in found["codes"], (found["codes"], found["reasons"])
