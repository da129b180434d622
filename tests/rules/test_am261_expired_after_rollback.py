"""AM261 expired-after-rollback: an object phase two cannot refresh (a dependency's value it
cannot show is one object of the route's Session) read after `rollback()` or `expire(...)`
blocks the route; one the route loaded itself gets a refresh (run in
tests/test_phase2_expired_reads.py)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("call", ["session.rollback()", "session.expire(book)", "session.expire_all()"])
def test_an_object_from_a_dependency_read_after_rollback_blocks_the_route_with_am261(phase2, entry, call):
    document = phase2(
        f"""
        from fastapi import Depends


        def current_book(session: session_dependency) -> Book:
            return session.scalars(select(Book).where(Book.id == 1)).all()[0]


        @router.post("/books/undo")
        def undo(session: session_dependency, book: Book = Depends(current_book)):
            {call}
            return {{"title": book.title}}
        """
    )
    found = entry(document, "undo")
    assert found["action"] == "blocked", found
    assert "AM261" in found["codes"], found


def test_near_miss_an_object_loaded_in_the_route_is_refreshed(phase2, entry):
    document = phase2(
        """
        @router.post("/books/undo")
        def undo(session: session_dependency):
            book = session.get(Book, 1)
            session.rollback()
            return {"title": book.title}
        """
    )
    found = entry(document, "undo")
    assert (found["action"], "AM261" in found["codes"]) == ("migrate", False), found
    assert "await session.refresh(book)" in document["diff"]
