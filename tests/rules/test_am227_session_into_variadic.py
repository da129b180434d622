"""AM227 session-into-variadic: the Session handed into a project job queue's `*args` blocks
the route; the same call without the Session migrates."""

from __future__ import annotations

QUEUE = """
import threading

from models import Book

TASKS = {}


def task(fn):
    TASKS[fn.__name__] = fn
    return fn


def enqueue(name, *args):
    threading.Thread(target=TASKS[name], args=args).start()


@task
def count_later(session, label):
    print(label, session.query(Book).count())
"""


def route(call: str) -> str:
    return f"""
from jobs import enqueue
from models import Book


@router.get("/books/{{book_id}}")
def read_book(book_id: int, session: session_dependency):
    book = session.get(Book, book_id)
    {call}
    return {{"id": book.id}}
"""


def test_the_session_passed_into_star_args_blocks_with_am227(phase2, entry):
    found = entry(phase2(route('enqueue("count_later", session, "seen")'), {"jobs.py": QUEUE}), "read_book")
    assert found["action"] == "blocked" and "AM227" in found["codes"], found
    assert "into `*args` of `enqueue()`" in " ".join(found["reasons"]), found


def test_near_miss_the_job_given_no_session_migrates(phase2, entry):
    found = entry(phase2(route('enqueue("count_later", "seen")'), {"jobs.py": QUEUE}), "read_book")
    assert found["action"] == "migrate" and "AM227" not in found["codes"], found
