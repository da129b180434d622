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


# A schema built from `**x` (mlrun's `schemas.Project(**project_record.full_object)`): the fields
# the call does not name come from what x holds under their keys, judged by the flow; only an x
# the flow cannot read leaves them to be judged by the relationships' names.
UNPACKED = """
import somelib
from pydantic import BaseModel, ConfigDict


class AuthorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    author: AuthorOut


class Card(BaseModel):
    book: BookOut


@router.get("/card/{book_id}")
def card(session: session_dependency, book_id: int):
    book = session.get(Book, book_id)
    return Card(**{unpacked})
"""


def _unpacked_models() -> dict[str, str]:
    from test_phase2_rules import MODELS

    return {"models.py": MODELS.replace(
        "from sqlalchemy import ForeignKey", "from sqlalchemy import JSON, ForeignKey"
    ) + "    extra: Mapped[dict] = mapped_column(JSON, default=dict)\n"}


def test_near_miss_a_schema_built_from_a_json_columns_dict_reads_no_relationship(phase2, entry):
    # `Card.book.author` is no relationship read: the dict a JSON column holds has no ORM object
    found = entry(phase2(UNPACKED.replace("{unpacked}", "book.extra"), _unpacked_models()), "card")
    assert found["action"] == "migrate", found
    assert "Book.author" not in " ".join(found["reasons"]), found


def test_a_schema_built_from_a_dict_holding_the_object_gets_its_eager_load(phase2, entry):
    found = entry(phase2(UNPACKED.replace("{unpacked}", '{"book": book}'), _unpacked_models()), "card")
    assert found["action"] == "migrate", found
    assert "adds the eager load of Book.author" in " ".join(found["reasons"]), found


def test_a_schema_built_from_what_the_flow_cannot_read_is_still_judged_by_names(phase2, entry):
    found = entry(phase2(UNPACKED.replace("{unpacked}", "somelib.dump(book)"), _unpacked_models()), "card")
    assert found["action"] == "blocked" and "Book.author" in " ".join(found["reasons"]), found
