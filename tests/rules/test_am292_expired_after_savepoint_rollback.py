"""AM292 expired-after-savepoint-rollback: an object changed inside `with db.begin_nested():`
(or before `sp.rollback()`) and read after the rollback blocks the route; refreshed first, or
not changed inside, it migrates (run in tests/test_phase2_expired_reads.py)."""

from __future__ import annotations

import pytest

WITH_BLOCK = """
from sqlalchemy.exc import IntegrityError


@router.put("/books/{{book_id}}")
def retitle(book_id: int, title: str, session: session_dependency):
    book = session.get(Book, book_id)
    try:
        with session.begin_nested():
            book.title = title
            session.flush()
    except IntegrityError:
        {handler}
        return {{"kept": book.title}}
    session.commit()
    return {{"title": book.title}}
"""

EXPLICIT = """
from sqlalchemy.exc import IntegrityError


@router.put("/books/{{book_id}}")
def retitle(book_id: int, title: str, session: session_dependency):
    book = session.get(Book, book_id)
    sp = session.begin_nested()
    try:
        book.title = title
        session.flush()
    except IntegrityError:
        sp.rollback()
        {handler}
        return {{"kept": book.title}}
    sp.commit()
    session.commit()
    return {{"title": book.title}}
"""


@pytest.mark.parametrize("source", [WITH_BLOCK, EXPLICIT], ids=["with", "rollback"])
def test_a_read_after_the_savepoint_rolled_back_blocks_the_route_with_am292(phase2, entry, source):
    document = phase2(source.format(handler="pass"))
    found = entry(document, "retitle")
    assert found["action"] == "blocked", found
    assert "AM292" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM292")]
    assert "`book` is read" in reason and "session.refresh(book)" in reason, reason


@pytest.mark.parametrize("source", [WITH_BLOCK, EXPLICIT], ids=["with", "rollback"])
def test_near_miss_refreshed_before_the_read_migrates(phase2, entry, source):
    document = phase2(source.format(handler="session.refresh(book)"))
    found = entry(document, "retitle")
    assert (found["action"], "AM292" in found["codes"]) == ("migrate", False), found
    assert "await session.refresh(book)" in document["diff"]


def test_near_miss_an_object_not_changed_inside_the_savepoint_migrates(phase2, entry):
    document = phase2(
        """
        from sqlalchemy.exc import IntegrityError


        @router.post("/books/{book_id}/copy")
        def copy(book_id: int, session: session_dependency):
            book = session.get(Book, book_id)
            try:
                with session.begin_nested():
                    session.add(Book(title=book.title, author_id=book.author_id))
                    session.flush()
            except IntegrityError:
                return {"kept": book.title}
            session.commit()
            return {"copied": book.title}
        """
    )
    found = entry(document, "copy")
    assert (found["action"], "AM292" in found["codes"]) == ("migrate", False), found


HELPER = """
from sqlalchemy.exc import IntegrityError


def try_retitle(session: Session, book: Book, title: str) -> bool:
    try:
        with session.begin_nested():
            book.title = title
            session.flush()
        return True
    except IntegrityError:
        {handler}
        return False


@router.put("/books/{{book_id}}")
def retitle(book_id: int, title: str, session: session_dependency):
    book = session.get(Book, book_id)
    done = try_retitle(session, book, title)
    session.commit()
    return {{"done": done, "title": book.title}}
"""


def test_a_read_of_what_a_helper_handed_back_expired_blocks_the_route_with_am292(phase2, entry):
    document = phase2(HELPER.format(handler="pass"))
    found = entry(document, "retitle")
    assert found["action"] == "blocked", found
    reason = found["reasons"][found["codes"].index("AM292")]
    assert "`book` is read" in reason and "try_retitle(...)" in reason, reason


def test_near_miss_a_helper_refreshing_after_the_rollback_migrates(phase2, entry):
    document = phase2(HELPER.format(handler="session.refresh(book)"))
    found = entry(document, "retitle")
    assert (found["action"], "AM292" in found["codes"]) == ("migrate", False), found


def test_a_read_after_the_loop_of_savepoints_blocks_the_route_with_am292(phase2, entry):
    document = phase2(
        """
        from sqlalchemy.exc import IntegrityError


        @router.put("/books/{book_id}")
        def retitle(book_id: int, titles: list[str], session: session_dependency):
            book = session.get(Book, book_id)
            for title in titles:
                try:
                    with session.begin_nested():
                        book.title = title
                        session.flush()
                except IntegrityError:
                    continue
            session.commit()
            return {"title": book.title}
        """
    )
    found = entry(document, "retitle")
    assert found["action"] == "blocked" and "AM292" in found["codes"], found


def test_near_miss_each_object_of_the_loop_in_its_own_savepoint_migrates(phase2, entry):
    document = phase2(
        """
        from sqlalchemy.exc import IntegrityError


        @router.put("/books/retitle")
        def retitle_all(suffix: str, session: session_dependency):
            skipped = 0
            for book in session.scalars(select(Book)).all():
                try:
                    with session.begin_nested():
                        book.title = book.title + suffix
                        session.flush()
                except IntegrityError:
                    skipped += 1
            session.commit()
            return {"skipped": skipped}
        """
    )
    found = entry(document, "retitle_all")
    assert (found["action"], "AM292" in found["codes"]) == ("migrate", False), found


def test_an_object_loaded_in_a_transaction_block_read_after_its_rollback_blocks_with_am292(phase2, entry):
    document = phase2(
        """
        from fastapi import HTTPException
        from sqlalchemy.exc import IntegrityError


        @router.post("/books/{book_id}/copy")
        def copy(book_id: int, session: session_dependency):
            try:
                with session.begin():
                    book = session.get(Book, book_id)
                    session.add(Book(id=book_id, title=book.title, author_id=book.author_id))
            except IntegrityError:
                raise HTTPException(409, f"{book.title} exists")
            return {"copied": True}
        """
    )
    found = entry(document, "copy")
    assert found["action"] == "blocked" and "AM292" in found["codes"], found


def test_near_miss_a_number_counted_in_a_transaction_block_migrates(phase2, entry):
    document = phase2(
        """
        from fastapi import HTTPException
        from sqlalchemy.exc import IntegrityError


        @router.post("/books/{book_id}/copy")
        def copy(book_id: int, session: session_dependency):
            try:
                with session.begin():
                    n = session.scalar(select(func.count(Book.id)))
                    session.add(Book(id=book_id, title=f"copy {n}", author_id=1))
            except IntegrityError:
                raise HTTPException(409, f"{n} books")
            return {"copied": True}
        """
    )
    found = entry(document, "copy")
    assert (found["action"], "AM292" in found["codes"]) == ("migrate", False), found
