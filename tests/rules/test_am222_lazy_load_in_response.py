"""AM222 lazy-load-in-response: a response model field reading a relationship the route's query
does not eager-load blocks the route."""

from __future__ import annotations

import pytest
from test_phase2_rules import SCHEMAS

ROUTE = """
from sqlalchemy.orm import selectinload

from schemas import BookOut


@router.get("/model", response_model=BookOut)
def model(session: session_dependency, book_id: int):
    # a dict lookup: the data flow does not follow it to the query, so no option is added
    books = {b.id: b for b in session.scalars(select(Book).{options}where(Book.id == book_id))}
    return books[book_id]
"""


def test_a_response_model_reading_a_lazy_relationship_blocks_with_am222(phase2, entry):
    found = entry(phase2(ROUTE.replace("{options}", ""), {"schemas.py": SCHEMAS}), "model")
    assert found["action"] == "blocked" and "AM222" in found["codes"], found
    # the fix names both ways: an option on the query, or a refresh of an object the route built
    reason = " ".join(found["reasons"])
    assert "selectinload(Book.author)" in reason, reason
    assert 'await session.refresh(obj, attribute_names=["author"])' in reason, reason


def test_near_miss_the_relationship_loaded_for_the_response_migrates(phase2, entry):
    route = ROUTE.replace("{options}", "options(selectinload(Book.author)).").replace(
        "    books = {b.id: b for b in session.scalars(", "    return session.scalars("
    ).replace("))}\n    return books[book_id]", ")).one()")
    assert "return session.scalars(select(Book).options(selectinload(Book.author))" in route, route
    found = entry(phase2(route, {"schemas.py": SCHEMAS}), "model")
    assert found["action"] == "migrate" and "AM222" not in found["codes"], found


def test_an_option_in_a_query_the_flow_does_not_follow_to_still_blocks(phase2, entry):
    """The dict is built from the query carrying `selectinload(Book.author)`, but the flow cannot show
    the returned Book comes from it: an option credits the objects traced to its own query only."""
    route = ROUTE.replace("{options}", "options(selectinload(Book.author)).")
    found = entry(phase2(route, {"schemas.py": SCHEMAS}), "model")
    assert found["action"] == "blocked" and "AM222" in found["codes"], found


# A response model field named like a relationship (`AuthorOut.books: int`) filled from a count
# query, not from the object: the model is built from the dict or keywords the route gives it, so
# the field reads what it is given there (matched by data flow, not by the field's name).
COUNTED_MODELS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    books: Mapped[list["Book"]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")
"""
COUNTED_SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class AuthorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    books: int
"""
COUNTED = """
from models import Author
from schemas import AuthorOut


@router.get("/authors/{author_id}", response_model=AuthorOut)
def read_author(author_id: int, session: session_dependency):
    author = session.get(Author, author_id)
    n = session.scalar(select(func.count(Book.id)).where(Book.author_id == author_id))
    return %s
"""


@pytest.mark.parametrize("returned", [
    'AuthorOut.model_validate({"id": author.id, "name": author.name, "books": n})',
    "AuthorOut.model_validate(dict(id=author.id, name=author.name, books=n))",
    "AuthorOut.model_construct(id=author.id, name=author.name, books=n)",
])
def test_near_miss_a_field_named_like_a_relationship_given_a_count_migrates_with_no_eager_load(
    phase2, entry, returned
):
    document = phase2(COUNTED % returned, {"models.py": COUNTED_MODELS, "schemas.py": COUNTED_SCHEMAS})
    found = entry(document, "read_author")
    assert (found["action"], found["codes"]) == ("migrate", ["AM201"]), found
    assert "selectinload" not in document["diff"], document["diff"]


def test_the_object_itself_returned_reads_the_relationship_of_that_name(phase2, entry):
    document = phase2(COUNTED % "author", {"models.py": COUNTED_MODELS, "schemas.py": COUNTED_SCHEMAS})
    found = entry(document, "read_author")
    assert found["action"] == "migrate" and "AM246" in found["codes"], found
    assert "selectinload(Author.books)" in document["diff"], document["diff"]
