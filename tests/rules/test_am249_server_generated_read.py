"""AM249 server-generated-read: a helper given an object whose column the database computes on
update, reading it after the commit, blocks; an object it loads itself is refreshed."""

from __future__ import annotations

from test_phase2_rules import MODELS

GENERATED = MODELS.replace(
    "    title: Mapped[str]\n",
    "    title: Mapped[str]\n    revision: Mapped[int] = mapped_column(server_default=\"0\", onupdate=func.now())\n",
).replace("from sqlalchemy import ForeignKey", "from sqlalchemy import ForeignKey, func")


def test_a_parameter_object_read_after_commit_blocks_with_am249(phase2, entry):
    assert GENERATED != MODELS
    found = entry(phase2(
        """
        def touch(session: Session, book: Book) -> int:
            book.title = book.title.strip()
            session.commit()
            return book.revision


        @router.put("/books/{book_id}")
        def rename(book_id: int, session: session_dependency):
            return {"revision": touch(session, session.get(Book, book_id))}
        """,
        {"models.py": GENERATED},
    ), "rename")
    assert found["action"] == "blocked" and "AM249" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM249")]
    assert "`book.revision` is read after `session.commit()`" in reason and "revision" in reason, reason


def test_near_miss_an_object_loaded_in_the_function_is_refreshed(phase2, entry):
    found = entry(phase2(
        """
        @router.put("/books/{book_id}")
        def rename(book_id: int, session: session_dependency):
            book = session.scalars(select(Book).where(Book.id == book_id)).one()
            book.title = book.title.strip()
            session.commit()
            return {"revision": book.revision}
        """,
        {"models.py": GENERATED},
    ), "rename")
    assert found["action"] == "migrate" and "AM249" not in found["codes"], found


def test_near_miss_a_name_that_only_starts_with_the_objects_is_no_read_of_it(phase2, entry):
    # `b` is changed and committed; what is returned is `books`, which only starts like it
    found = entry(phase2(
        """
        def touch(session: Session, b: Book, book_id: int) -> Book | None:
            b.title = b.title.strip()
            session.commit()
            books = session.get(Book, book_id)
            return books


        @router.put("/books/{book_id}")
        def rename(book_id: int, session: session_dependency):
            return {"title": touch(session, session.get(Book, book_id), book_id).title}
        """,
        {"models.py": GENERATED},
    ), "rename")
    assert found["action"] == "migrate" and "AM249" not in found["codes"], found
