"""AM228 session-in-container: the Session handed to a thread inside `args=(...)` blocks the
route; a tuple without it does not."""

from __future__ import annotations


def route(args: str) -> str:
    return f"""
import threading

from models import Book


def touch(book_id, session=None):
    print(book_id)


@router.get("/books/{{book_id}}")
def read_book(book_id: int, session: session_dependency):
    book = session.get(Book, book_id)
    threading.Thread(target=touch, args={args}).start()
    return {{"id": book.id}}
"""


def test_the_session_in_a_thread_args_tuple_blocks_with_am228(phase2, entry):
    found = entry(phase2(route("(book_id, session)")), "read_book")
    assert found["action"] == "blocked" and found["codes"] == ["AM228"], found
    assert "inside a tuple, list or dict" in found["reasons"][0], found


def test_near_miss_a_tuple_without_the_session_migrates(phase2, entry):
    found = entry(phase2(route("(book_id,)")), "read_book")
    assert found["action"] == "migrate" and "AM228" not in found["codes"], found
