"""AM250 lazy-load-in-model-code: a model property reading a relationship, on an object from a dependency."""

from __future__ import annotations

from test_phase2_rules import MODELS

PROPERTY_MODELS = MODELS + """
    @property
    def author_name(self) -> str:
        return self.author.name

    @property
    def shout(self) -> str:
        return self.title.upper()
"""

ROUTER = """
from fastapi import Depends


# an object the dependency does not load on the route's Session: no query to add an option to
# (a dependency loading it moves with the route, and its twin's query gets the eager load)
PINNED: dict[int, Book] = {{}}


def current_book() -> Book:
    return PINNED[1]


@router.get("/name")
def name(session: session_dependency, book: Book = Depends(current_book)):
    count = session.scalar(select(func.count()).select_from(Book))
    return {{"value": book.{attribute}, "count": count}}
"""


def test_a_property_reading_a_relationship_of_a_dependency_object_blocks_naming_both(phase2, entry):
    document = phase2(ROUTER.format(attribute="author_name"), {"models.py": PROPERTY_MODELS})
    found = entry(document, "name")
    assert found["action"] == "blocked" and found["codes"] == ["AM250"], found
    reason = found["reasons"][0]
    assert "property Book.author_name" in reason and "relationship Book.author" in reason
    assert "the dependency api.items.current_book" in reason


def test_near_miss_a_property_reading_only_columns_migrates(phase2, entry):
    document = phase2(ROUTER.format(attribute="shout"), {"models.py": PROPERTY_MODELS})
    found = entry(document, "name")
    assert found["action"] == "migrate" and "AM250" not in found["codes"], found


QUERY_PROPERTY_MODELS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, scoped_session

from db.engine import database_sessionmaker

registry = scoped_session(database_sessionmaker)


class Base(DeclarativeBase):
    query = registry.query_property()


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]

    def to_dict(self):
        return {"name": self.name}


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship()

    def to_dict(self):
        return {"title": self.title, "author": self.author.name}
"""
QUERY_PROPERTY_ROUTER = """
@router.get("/authors/{author_id}")
def get_author(author_id: int):
    author = Author.query.filter_by(id=author_id).first()
    return author.to_dict()


@router.get("/authors/{author_id}/again")
def get_again(author_id: int):
    return Author.query.get(author_id).to_dict()


def paginate(query):
    return {"items": query.limit(10).all()}


@router.get("/authors")
def list_authors():
    page = paginate(Author.query.order_by(Author.id))
    return [a.to_dict() for a in page["items"]]
"""


def test_a_method_run_on_a_query_property_row_is_the_models_own_and_an_untyped_one_says_so(phase2, entry):
    # `Author.query...first()` is an Author: its `to_dict` reads no relationship, whatever
    # Book.to_dict does. Where the class is unknown, the reason says so and names every class
    # defining the method, instead of naming one as if the tool knew.
    document = phase2("from models import Author\n\n\n" + QUERY_PROPERTY_ROUTER, {"models.py": QUERY_PROPERTY_MODELS})
    for name in ("get_author", "get_again"):
        found = entry(document, name)
        assert found["action"] == "blocked" and "AM250" not in found["codes"], found
        assert not any("Book.to_dict" in r for r in found["reasons"]), found
    listed = entry(document, "list_authors")
    [reason] = [r for r, c in zip(listed["reasons"], listed["codes"], strict=True) if c == "AM250"]
    assert "`a.to_dict()` may run method Book.to_dict" in reason, reason
    assert "unverified: the class of `a` is unknown, and `to_dict` is defined by Author, Book" in reason, reason
