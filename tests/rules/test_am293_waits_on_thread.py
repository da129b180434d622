"""AM293 waits-on-thread: a `def` route phase two would make `async def` that waits on another
thread or process (`pool.submit(job).result()`, a bounded `queue.Queue`'s `put()`, `with lock:`)
would hold the event loop for it: the route is blocked, naming the wait, and stays `def`. Before,
phase two migrated it and `check` and `verify` passed."""

from __future__ import annotations

import pytest

OBJECTS = """
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

pool = ThreadPoolExecutor(max_workers=2)
LOCK = threading.Lock()
AUDIT: "queue.Queue[int]" = queue.Queue(maxsize=100)
UNBOUNDED: "queue.Queue[int]" = queue.Queue()


def recount(book_id: int) -> int:
    return book_id


def add_book(session: Session, title: str) -> Book:
    book = Book(title=title, author_id=1)
    session.add(book)
    session.commit()
    return book


def wait_for(book_id: int) -> int:
    fut = pool.submit(recount, book_id)
    return fut.result()
"""

BLOCKED = {
    "n = pool.submit(recount, book.id).result(timeout=30)": "`pool.submit(...).result()` at line",
    "n = wait_for(book.id)": "`api.items.wait_for()` (line",
    "AUDIT.put(book.id)": "`AUDIT.put()` at line",
    "with LOCK:\n        n = 1": "`with LOCK:` at line",
}


@pytest.mark.parametrize("wait", list(BLOCKED))
def test_a_def_route_waiting_on_a_thread_is_blocked_with_am293(phase2, entry, wait):
    document = phase2(OBJECTS + f"""

@router.post("/books")
def add(title: str, session: session_dependency):
    book = add_book(session, title)
    {wait}
    return {{"id": book.id}}
""")
    found = entry(document, "add")
    assert (found["action"], found["codes"]) == ("blocked", ["AM293"]), found
    reason = found["reasons"][0]
    assert BLOCKED[wait] in reason and "waits on another thread or process" in reason, reason
    assert "would hold the event loop" in reason and "it stays `def`" in reason, reason
    assert document["files_changed"] == []


def test_the_reason_names_the_future_and_its_awaited_form(phase2, entry):
    document = phase2(OBJECTS + """

@router.post("/books")
def add(title: str, session: session_dependency):
    book = add_book(session, title)
    n = wait_for(book.id)
    return {"id": book.id, "n": n}
""")
    reason = entry(document, "add")["reasons"][0]
    assert "runs `fut.result()` at api/items.py:" in reason and "(a concurrent.futures.Future)" in reason, reason
    assert "`await asyncio.wrap_future(future)`" in reason, reason


NEAR_MISSES = [
    "pool.submit(recount, book.id)",
    "AUDIT.put_nowait(book.id)",
    "AUDIT.put(book.id, block=False)",
    "UNBOUNDED.put(book.id)",
    "LOCK.acquire(blocking=False)",
]


@pytest.mark.parametrize("call", NEAR_MISSES)
def test_near_miss_a_route_that_does_not_wait_migrates(phase2, entry, call):
    document = phase2(OBJECTS + f"""

@router.post("/books")
def add(title: str, session: session_dependency):
    book = add_book(session, title)
    {call}
    return {{"id": book.id}}
""")
    found = entry(document, "add")
    assert found["action"] == "migrate" and "AM293" not in found["codes"], (found["codes"], found["reasons"])
