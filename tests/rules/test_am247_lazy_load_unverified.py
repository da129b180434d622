"""AM247 lazy-load-unverified: an object of a model defined outside PATH is read: the route is not migrated."""

from __future__ import annotations

ROUTER = """
from {module} import {model}


@router.get("/title")
def title(session: session_dependency, item_id: int):
    item = session.get({model}, item_id)
    return {{"title": item.title}}
"""


def test_a_read_on_an_object_of_a_model_outside_path_is_unverified(phase2, entry):
    found = entry(phase2(ROUTER.format(module="shared_models", model="Gadget")), "title")
    assert found["action"] == "blocked" and found["codes"] == ["AM247"], found
    assert "shared_models.Gadget" in found["reasons"][0] and "unverified" in found["reasons"][0]


def test_near_miss_a_model_under_path_migrates(phase2, entry):
    found = entry(phase2(ROUTER.format(module="models", model="Book")), "title")
    assert found["action"] == "migrate" and "AM247" not in found["codes"], found


COLUMNS = """
from {module} import {model}


@router.get("/titles")
def titles(session: session_dependency):
    rows = session.query({model}.title).order_by({model}.id).all()
    return [r.title for r in rows]
"""


def test_near_miss_rows_of_a_column_query_hold_no_object_to_load_into(phase2, entry):
    # `query(Book.title)` gives rows of values: `r.title` is a column value, not a lazy load.
    found = entry(phase2(COLUMNS.format(module="models", model="Book")), "titles")
    assert found["action"] == "migrate" and "AM247" not in found["codes"], found


def test_a_column_query_of_a_model_outside_path_stays_unverified(phase2, entry):
    found = entry(phase2(COLUMNS.format(module="shared_models", model="Gadget")), "titles")
    assert found["action"] == "blocked" and "AM247" in found["codes"], found


TABLE = """
from sqlalchemy import Column, Integer, MetaData, String, Table

metadata = MetaData()

gadgets = Table(
    "gadgets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(100)),
)
"""
TABLE_ROWS = """
from tables import gadgets


@router.get("/titles")
def titles(session: session_dependency):
    rows = session.query(gadgets).all()
    return [r.title for r in rows]
"""


def test_near_miss_rows_of_a_table_of_the_project_hold_no_object_to_load_into(phase2, entry):
    # skypilot's `session.query(user_table)` on `user_table = sqlalchemy.Table("users", Base.metadata,
    # ...)`: rows of its column values, read as `row.name`, were "an object of a model not defined
    # under PATH" whose reads might lazy-load
    found = entry(phase2(TABLE_ROWS, {"tables.py": TABLE}), "titles")
    # still blocked, for the result's shape only (the rewrite does not yet tell a Table from a class)
    assert found["action"] == "blocked" and found["codes"] == ["AM213"], found
    assert not any("not defined under PATH" in r for r in found["reasons"]), found


HANDED_MODELS = """
import pprint

from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


def audit(obj):
    return pprint.pformat(obj)


def noted(obj):
    return obj


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship()

    def attach(self, session: Session) -> None:
        session.add(self)

    def logged(self) -> None:
        audit(self)

    def kept(self) -> None:
        noted(self)
"""
HANDED = """
from fastapi import Depends


PINNED: dict[int, Book] = {{}}


def current_book() -> Book:
    return PINNED[1]


@router.post("/books/current")
def keep(session: session_dependency, book: Book = Depends(current_book)):
    book.{method}
    session.commit()
    return {{"ok": True}}
"""


def test_an_object_handed_to_a_session_method_is_no_unfollowed_read(phase2, entry):
    # `session.add(self)` is SQLAlchemy's own: its cascade loads nothing, and an awaited method
    # (`delete`, `merge`) runs where loads may. The models are under PATH: nothing to say about them.
    found = entry(phase2(HANDED.format(method="attach(session)"), {"models.py": HANDED_MODELS}), "keep")
    assert found["action"] == "migrate" and "AM247" not in found["codes"], found
    assert not any("whose reads the tool does not follow" in r for r in found["reasons"]), found


def test_near_miss_an_object_handed_to_a_project_function_stays_unverified(phase2, entry):
    found = entry(phase2(HANDED.format(method="logged()"), {"models.py": HANDED_MODELS}), "keep")
    assert found["action"] == "blocked" and "AM247" in found["codes"], found
    assert any("`self` is handed to `audit(...)`, whose reads the tool does not follow" in r for r in found["reasons"])


def test_an_object_handed_to_a_project_function_is_judged_by_what_it_reads(phase2, entry):
    # `noted(self)` reads nothing of the book: followed, not left unverified
    found = entry(phase2(HANDED.format(method="kept()"), {"models.py": HANDED_MODELS}), "keep")
    assert found["action"] == "migrate" and "AM247" not in found["codes"], found


REPOSITORY = """
from typing import Generic, TypeVar

T = TypeVar("T")


class Repository(Generic[T]):
    def __init__(self, session: Session, model: type[T]):
        self.session = session
        self.model = model

    def get(self, obj_id: int):
        return self.session.get(self.model, obj_id)


@router.get("/field")
def field(session: session_dependency, book_id: int, name: str):
    book = Repository(session, Book).get(book_id)
    return str(getattr(book, {name}))
"""


def test_a_run_time_attribute_of_an_object_a_repository_loads_is_unverified(phase2, entry):
    # `name` may be "author": the flow cannot follow `self.model`, so no eager load can be checked
    found = entry(phase2(REPOSITORY.format(name="name")), "field")
    assert found["action"] == "blocked" and found["codes"] == ["AM247"], found
    assert "`getattr(book, name)` reads, on an object " in found["reasons"][0]
    assert "Repository.get loads through the Session, the attribute `name` names at run time" in found["reasons"][0]


def test_near_miss_a_constant_attribute_of_the_same_object_migrates(phase2, entry):
    found = entry(phase2(REPOSITORY.format(name='"title"')), "field")
    assert found["action"] == "migrate", found


BY_NAME = """
from sqlalchemy.orm import Session

from models import Book


class BookRepository:
    def __init__(self, session: Session):
        self.session = session

    def get(self, book_id: int):
        return self.session.get(Book, book_id)


@router.get("/field/{field}")
def field(session: session_dependency, field: str):
    book = BookRepository(session).get(1)
    return {"value": getattr(book, field)}
"""


def test_a_run_time_getattr_says_which_attribute_it_cannot_see_and_what_to_do(phase2, entry):
    found = entry(phase2(BY_NAME), "field")
    assert found["action"] == "blocked" and found["codes"] == ["AM247"], found
    [reason] = found["reasons"]
    assert "`getattr(book, field)`" in reason and "the attribute `field` names at run time" in reason, reason
    assert "cannot see which attribute" in reason, reason
    assert "await session.refresh(book, attribute_names=[field])" in reason, reason
    # the advice fits the read, not a model outside PATH, nor threads
    assert "outside PATH" not in reason and "thread" not in reason, reason


def test_near_miss_a_constant_getattr_name_migrates(phase2, entry):
    found = entry(phase2(BY_NAME.replace("getattr(book, field)", 'getattr(book, "title")')), "field")
    assert found["action"] == "migrate" and "AM247" not in found["codes"], found
