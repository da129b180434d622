"""AM221 dynamic-relationship: a `lazy="dynamic"` relationship read under AsyncSession blocks the
route, whatever loader option the query names."""

from __future__ import annotations

from test_phase2_rules import MODELS

DYNAMIC_MODELS = MODELS.replace("author: Mapped[Author] = relationship()", "").replace(
    "    name: Mapped[str]\n",
    '    name: Mapped[str]\n    books: Mapped[list["Book"]] = relationship(lazy="{lazy}")\n',
)
ROUTE = """
from sqlalchemy.orm import selectinload

from models import Author


@router.get("/titles")
def titles(session: session_dependency) -> list[str]:
    author = session.scalars(select(Author).options(selectinload(Author.books))).one()
    return [b.title for b in author.books]
"""


def test_a_dynamic_relationship_blocks_the_route_with_am221(phase2, entry):
    found = entry(phase2(ROUTE, {"models.py": DYNAMIC_MODELS.replace("{lazy}", "dynamic")}), "titles")
    assert found["action"] == "blocked" and "AM221" in found["codes"], found


def test_near_miss_a_select_relationship_loaded_by_the_option_migrates(phase2, entry):
    found = entry(phase2(ROUTE, {"models.py": DYNAMIC_MODELS.replace("{lazy}", "select")}), "titles")
    assert found["action"] == "migrate" and "AM221" not in found["codes"], found


RESPONSE_ROUTE = """
from pydantic import BaseModel, ConfigDict

from models import Author


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str


class AuthorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    books: list[BookOut]


@router.get("/authors/{author_id}", response_model=AuthorOut)
def author(author_id: int, session: session_dependency):
    return session.get(Author, author_id)
"""


def test_a_dynamic_relationship_a_response_model_reads_is_am221_without_advising_a_loader_option(phase2, entry):
    # A loader option on a dynamic relationship raises; the advice was to add selectinload.
    found = entry(phase2(RESPONSE_ROUTE, {"models.py": DYNAMIC_MODELS.replace("{lazy}", "dynamic")}), "author")
    assert found["action"] == "blocked" and found["codes"] == ["AM221"], found
    assert "AuthorOut.books reads relationship Author.books" in found["reasons"][0]
    assert "lazy=\"write_only\"" in found["reasons"][0] and "selectinload" not in found["reasons"][0]


def test_near_miss_a_select_relationship_a_response_model_reads_gets_its_eager_load(phase2, entry):
    found = entry(phase2(RESPONSE_ROUTE, {"models.py": DYNAMIC_MODELS.replace("{lazy}", "select")}), "author")
    assert found["action"] == "migrate" and "AM221" not in found["codes"], found


PROPERTY_MODELS = DYNAMIC_MODELS.replace("{lazy}", "dynamic").replace(
    '    books: Mapped[list["Book"]] = relationship(lazy="dynamic")\n',
    '    books: Mapped[list["Book"]] = relationship(lazy="dynamic")\n\n'
    "    @property\n    def book_count(self) -> int:\n        return self.books.count()\n",
)
PROPERTY_ROUTE = """
from models import Author


@router.get("/authors/{author_id}/count")
def book_count(author_id: int, session: session_dependency):
    return {"count": session.get(Author, author_id).book_count}
"""


def test_a_property_reading_a_dynamic_relationship_is_am221_without_advising_an_eager_load(phase2, entry):
    found = entry(phase2(PROPERTY_ROUTE, {"models.py": PROPERTY_MODELS}), "book_count")
    assert found["action"] == "blocked" and found["codes"] == ["AM221"], found
    assert "runs property Author.book_count" in found["reasons"][0]
    assert "write_only" in found["reasons"][0] and "eager-load" not in found["reasons"][0]


# SQLModel's `sa_relationship_kwargs=` given as a module-level dict name: its `lazy` is read there.
SQLMODEL_MODELS = """
from sqlmodel import Field, Relationship, SQLModel

BOOKS = {"lazy": "%s"}


class Author(SQLModel, table=True):
    __tablename__ = "authors"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    books: list["Book"] = Relationship(back_populates="author", sa_relationship_kwargs=BOOKS)


class Book(SQLModel, table=True):
    __tablename__ = "books"
    id: int | None = Field(default=None, primary_key=True)
    title: str
    author_id: int | None = Field(default=None, foreign_key="authors.id")
    author: Author | None = Relationship(back_populates="books")
"""
NAMED_ROUTE = """
from models import Author


@router.get("/titles")
def titles(session: session_dependency) -> list[str]:
    author = session.get(Author, 1)
    return [b.title for b in author.books]
"""


def test_a_dynamic_relationship_through_a_named_kwargs_dict_blocks_with_am221(phase2, entry):
    document = phase2(NAMED_ROUTE, {"models.py": SQLMODEL_MODELS % "dynamic"})
    found = entry(document, "titles")
    assert found["action"] == "blocked" and "AM221" in found["codes"], found
    assert "selectinload" not in document["diff"], document["diff"]


def test_near_miss_a_select_relationship_through_a_named_kwargs_dict_gets_its_eager_load(phase2, entry):
    document = phase2(NAMED_ROUTE, {"models.py": SQLMODEL_MODELS % "select"})
    found = entry(document, "titles")
    assert found["action"] == "migrate" and "AM221" not in found["codes"], found
    assert "selectinload(Author.books)" in document["diff"], document["diff"]
