"""AM220 lazy-load: a helper reading a relationship its query does not eager-load blocks its route."""

from __future__ import annotations

LAZY = """
from sqlalchemy.orm import selectinload


def author_name(session: Session, book_id: int) -> str:
    # a dict lookup: the data flow does not follow it to the query, so no option is added
    books = {b.id: b for b in session.scalars(select(Book).{options}where(Book.id == book_id))}
    book = books[book_id]
    return book.author.name


@router.get("/name")
def name(session: session_dependency, book_id: int):
    return author_name(session, book_id)
"""


def test_a_lazy_relationship_read_blocks_the_route_with_am220(phase2, entry):
    found = entry(phase2(LAZY.replace("{options}", "")), "name")
    assert found["action"] == "blocked" and "AM220" in found["codes"], found
    assert "selectinload(Book.author)" in " ".join(found["reasons"])


def test_near_miss_the_relationship_refreshed_on_the_object_migrates(phase2, entry):
    refreshed = LAZY.replace(
        "    return book.author.name", '    session.refresh(book, attribute_names=["author"])\n    return book.author.name'
    )
    found = entry(phase2(refreshed.replace("{options}", "")), "name")
    assert found["action"] == "migrate" and "AM220" not in found["codes"], found


def test_an_option_in_the_query_the_flow_does_not_follow_to_still_blocks(phase2, entry):
    """`selectinload(Book.author)` is written in the query the dict is built from, but the flow
    cannot show `book` comes from it: an option credits the objects traced to its own query only."""
    found = entry(phase2(LAZY.replace("{options}", "options(selectinload(Book.author)).")), "name")
    assert found["action"] == "blocked" and "AM220" in found["codes"], found


# A loop over a parameter: a request body's items (`list[BookIn]`), or objects a dependency hands
# over from where phase two cannot add an eager load (a module-level cache).
ITEMS = """
from fastapi import Depends
from pydantic import BaseModel


class BookIn(BaseModel):
    title: str
    author: str


CACHE: list[Book] = []


def cached_books() -> list[Book]:
    return CACHE


@router.post("/books/batch")
def batch(session: session_dependency, books: {annotation}):
    names = [b.author for b in books]
    for b in books:
        print(b.author)
    session.execute(select(Book.id))
    return {{"n": len(names)}}
"""


def test_near_miss_items_of_a_request_body_read_by_a_relationship_name_migrate(phase2, entry):
    found = entry(phase2(ITEMS.format(annotation="list[BookIn]")), "batch")
    assert found["action"] == "migrate" and "AM220" not in found["codes"], found


def test_items_of_a_parameter_holding_mapped_objects_still_block(phase2, entry):
    found = entry(phase2(ITEMS.format(annotation="list[Book] = Depends(cached_books)")), "batch")
    assert found["action"] == "blocked", found
    assert "`b.author` reads relationship Book.author" in " ".join(found["reasons"]), found
