"""AM246 eager-load-added: the option a relationship read needs is added to the query that loaded it."""

from __future__ import annotations

ROUTER = """
def author_name(session: Session, book_id: int) -> str:
    book = session.get(Book, book_id)
    return book.{attribute}


@router.get("/name")
def name(session: session_dependency, book_id: int):
    return author_name(session, book_id)
"""


def test_a_relationship_read_adds_the_option_to_the_get_that_loaded_the_object(phase2, entry):
    document = phase2(ROUTER.format(attribute="author.name"))
    found = entry(document, "name")
    assert found["action"] == "migrate" and "AM246" in found["codes"], found
    assert "adds the eager load of Book.author" in found["reasons"][found["codes"].index("AM246")]
    assert (
        "+    book = (await session.scalars(select(Book).where(Book.id == book_id).options(selectinload(Book.author))))"
        ".one_or_none()"
    ) in document["diff"]
    assert "+from sqlalchemy.orm import selectinload" in document["diff"]


def test_near_miss_a_column_read_adds_nothing(phase2, entry):
    document = phase2(ROUTER.format(attribute="title"))
    found = entry(document, "name")
    assert found["action"] == "migrate" and "AM246" not in found["codes"], found
    assert "selectinload" not in document["diff"]
