"""Lazy-load analysis for phase two: relationship reads that MissingGreenlet would break.

Each test builds a tiny application (engine and session dependency from `app_files`,
models, schemas, a helper and a router), collects every module with the pre-pass and
runs `lazy_load_risks` over the router's routes. The last tests read the sample
service (read-only).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import BOOKSHOP

from async_migrate.codemods import facts
from async_migrate.codemods.astcollect import collect
from async_migrate.codemods.classes import project_classes
from async_migrate.codemods.config import Config
from async_migrate.codemods.phase2.lazy_loads import LazyLoadRisk, LazyLoads, lazy_load_risks, lazy_loads
from async_migrate.codemods.project import FunctionId, Project
from async_migrate.codemods.run import Options, collect_project
from async_migrate.codemods.workers import Pool

MODELS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    books: Mapped[list["Book"]] = relationship(back_populates="author"{books_lazy})


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books"{author_lazy})
"""

SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class AuthorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str


class AuthorWithBooks(AuthorOut):
    books: list[BookOut]


class BookDetail(BookOut):
    author: AuthorOut


class BookDeep(BookOut):
    author: AuthorWithBooks | None
"""

ROUTER_HEAD = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from schemas.book import BookDeep, BookDetail, BookOut
from services import book_helper

router = APIRouter()
"""

HELPER_HEAD = """
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.book import Author, Book
"""


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def app(project, app_files):  # type: ignore[no-untyped-def]
    """app(helper=..., routes=..., author_lazy=...) -> the collected Project."""

    def build(
        helper: str,
        routes: str,
        author_lazy: str | None = None,
        books_lazy: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> Project:
        models = MODELS.format(
            author_lazy=f", lazy={author_lazy!r}" if author_lazy else "",
            books_lazy=f", lazy={books_lazy!r}" if books_lazy else "",
        )
        files = {
            **app_files,
            "api/__init__.py": "",
            "models/__init__.py": "",
            "schemas/__init__.py": "",
            "services/__init__.py": "",
            "models/book.py": models,
            "schemas/book.py": SCHEMAS,
            "services/book_helper.py": dedent(HELPER_HEAD) + "\n\n" + dedent(helper),
            "api/books.py": dedent(ROUTER_HEAD) + "\n\n" + dedent(routes),
            **(extra or {}),
        }
        root = project(files)
        built = collected(root)
        built.root = root  # type: ignore[attr-defined]  # for line_of
        return built

    return build


def line_of(root: Path, path: str, text: str) -> int:
    """The 1-based line of the only line of `path` containing `text`."""
    lines = [n for n, line in enumerate((root / path).read_text().splitlines(), 1) if text in line]
    assert len(lines) == 1, lines
    return lines[0]


def collected(root: Path) -> Project:
    modules = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith("tests/"):
            continue
        modules.append(collect(relative, path.read_text(encoding="utf-8")))
    return Project(modules)


def route_ids(project: Project, path: str = "api/books.py") -> list[tuple[str, str]]:
    return [h.id for h in project.handlers if h.module.path == path and h.kind == "route"]


def risks(project: Project, path: str = "api/books.py") -> list[LazyLoadRisk]:
    return lazy_load_risks(project, route_ids(project, path))


def summary(found: list[LazyLoadRisk]) -> list[tuple[str, str, str]]:
    return [(r.kind, r.function.rsplit(".", 1)[-1], r.path) for r in found]


# ------------------------------------------------------------------ helper reads

DESCRIBE = """
def describe(session: Session, book_id: int) -> dict:
    book = session.get(Book, book_id)
    return {"title": book.title, "author": book.author.name}
"""
SUMMARY_ROUTE = """
@router.get("/{book_id}/summary")
def summary(book_id: int, session: session_dependency) -> dict:
    return book_helper.describe(session, book_id)
"""


def test_lazy_relationship_read_in_a_helper_is_a_risk(app):
    project = app(DESCRIBE, SUMMARY_ROUTE)
    found = risks(project)
    assert summary(found) == [("attribute", "describe", "book.author")]
    risk = found[0]
    assert risk.file == "services/book_helper.py"
    assert risk.line == line_of(project.root, "services/book_helper.py", "book.author.name")
    assert risk.function == "services.book_helper.describe"
    assert risk.attribute == "author"
    assert risk.owner == "models.book.Book"
    assert risk.routes == ("api.books.summary",)
    assert "MissingGreenlet" in risk.message and "Book.author" in risk.message
    assert "selectinload(Book.author)" in risk.fix
    assert 'await session.refresh(book, attribute_names=["author"])' in risk.fix


def test_selectinload_in_the_query_makes_the_read_safe(app):
    helper = """
    def describe(session: Session, book_id: int) -> dict:
        stmt = select(Book).where(Book.id == book_id).options(selectinload(Book.author))
        book = session.scalars(stmt).one()
        return {"title": book.title, "author": book.author.name}
    """
    assert risks(app(helper, SUMMARY_ROUTE)) == []


def test_an_option_built_by_another_helper_of_the_closure_counts(app):
    helper = """
    def _options():
        return (selectinload(Book.author),)


    def describe(session: Session, book_id: int) -> dict:
        book = session.scalars(select(Book).options(*_options())).one()
        return {"author": book.author.name}
    """
    assert risks(app(helper, SUMMARY_ROUTE)) == []


def test_refresh_with_attribute_names_makes_the_read_safe(app):
    helper = """
    def describe(session: Session, book_id: int) -> dict:
        book = session.get(Book, book_id)
        session.refresh(book, attribute_names=["author"])
        return {"author": book.author.name}
    """
    assert risks(app(helper, SUMMARY_ROUTE)) == []


def test_refresh_without_attribute_names_does_not(app):
    helper = """
    def describe(session: Session, book_id: int) -> dict:
        book = session.get(Book, book_id)
        session.refresh(book)
        return {"author": book.author.name}
    """
    assert summary(risks(app(helper, SUMMARY_ROUTE))) == [("attribute", "describe", "book.author")]


# A refresh, an `awaitable_attrs` read and a string path load on one object or one query's objects:
# each credits a read of another Book of the same class as nothing (name-based and with the flow).
_OTHER_OBJECT = {
    "refresh": "session.refresh(first, attribute_names=[\"author\"])",
    "awaitable_attrs": "first.awaitable_attrs.author",
}


@pytest.mark.parametrize("how", sorted(_OTHER_OBJECT))
def test_refresh_of_one_object_does_not_credit_another(app, how):
    helper = f"""
    def describe(session: Session, book_id: int) -> dict:
        first = session.get(Book, book_id)
        second = session.get(Book, book_id + 1)
        {_OTHER_OBJECT[how]}
        return {{"first": first.author.name, "second": second.author.name}}
    """
    project = app(helper, SUMMARY_ROUTE)
    assert summary(risks(project)) == [("attribute", "describe", "second.author")]
    analysed = lazy_loads(project, route_ids(project))
    assert [r.path for r in analysed.risks] + [f.describe(project_classes(project)) for f in analysed.fixes] == [
        "Book.author"
    ]
    assert [f.line for f in analysed.fixes] == [line_of(project.root, "services/book_helper.py", "book_id + 1")]


def test_refresh_credits_the_object_a_helper_refreshes_and_hands_back(app):
    helper = """
    def fetch(session: Session, book_id: int) -> Book:
        book = session.get(Book, book_id)
        session.refresh(book, attribute_names=["author"])
        return book


    def describe(session: Session, book_id: int) -> dict:
        found = fetch(session, book_id)
        alias = found
        return {"author": alias.author.name}
    """
    project = app(helper, SUMMARY_ROUTE)
    analysed = lazy_loads(project, route_ids(project))
    assert (analysed.risks, analysed.fixes) == ([], [])


def test_refresh_in_a_helper_that_only_fetches_credits_nothing(app):
    # both Books come from the one query of `fetch`: refreshing one leaves the other's author lazy
    helper = """
    def fetch(session: Session, book_id: int) -> Book:
        return session.get(Book, book_id)


    def describe(session: Session, book_id: int) -> dict:
        first = fetch(session, book_id)
        second = fetch(session, book_id + 1)
        session.refresh(first, attribute_names=["author"])
        return {"first": first.author.name, "second": second.author.name}
    """
    project = app(helper, SUMMARY_ROUTE)
    assert summary(risks(project)) == [("attribute", "describe", "second.author")]
    analysed = lazy_loads(project, route_ids(project))
    assert [f.describe(project_classes(project)) for f in analysed.fixes] == ["Book.author"]


def test_refresh_after_the_read_credits_nothing(app):
    helper = """
    def describe(session: Session, book_id: int) -> dict:
        book = session.get(Book, book_id)
        name = book.author.name
        session.refresh(book, attribute_names=["author"])
        return {"author": name}
    """
    assert summary(risks(app(helper, SUMMARY_ROUTE))) == [("attribute", "describe", "book.author")]


@pytest.mark.parametrize("guard", ["if book_id:", "while book_id:", "try:"])
def test_refresh_some_path_skips_credits_nothing(app, guard):
    after = "\n            break" if guard.startswith("while") else "\n        except ValueError:\n            pass" if guard == "try:" else ""
    helper = f"""
    def describe(session: Session, book_id: int) -> dict:
        book = session.get(Book, book_id)
        {guard}
            session.refresh(book, attribute_names=["author"]){after}
        return {{"author": book.author.name}}
    """
    assert summary(risks(app(helper, SUMMARY_ROUTE))) == [("attribute", "describe", "book.author")]


def test_refresh_after_a_helper_returned_the_object_credits_nothing(app):
    # `fetch` may hand the Book back before its refresh: the query's objects are not all refreshed
    helper = """
    def fetch(session: Session, book_id: int, fast: bool) -> Book:
        book = session.get(Book, book_id)
        if fast:
            return book
        session.refresh(book, attribute_names=["author"])
        return book


    def describe(session: Session, book_id: int) -> dict:
        return {"author": fetch(session, book_id, False).author.name}
    """
    project = app(helper, SUMMARY_ROUTE)
    analysed = lazy_loads(project, route_ids(project))
    assert [f.describe(project_classes(project)) for f in analysed.fixes] == ["Book.author"]
    no_return = app(helper.replace("        if fast:\n            return book\n", ""), SUMMARY_ROUTE)
    assert lazy_loads(no_return, route_ids(no_return)).fixes == []


def test_string_path_credits_only_its_own_query(app):
    helper = """
    def describe(session: Session, book_id: int) -> dict:
        first = session.scalars(select(Book).where(Book.id == book_id).options(selectinload("author"))).one()
        second = session.scalars(select(Book).where(Book.id == book_id + 1)).one()
        return {"first": first.author.name, "second": second.author.name}
    """
    project = app(helper, SUMMARY_ROUTE)
    # by name nothing ties the path to an object: both reads are risks
    assert summary(risks(project)) == [
        ("attribute", "describe", "first.author"), ("attribute", "describe", "second.author"),
    ]
    analysed = lazy_loads(project, route_ids(project))
    assert analysed.risks == []
    assert [f.line for f in analysed.fixes] == [line_of(project.root, "services/book_helper.py", "book_id + 1")]


# An option naming the class (`selectinload(Book.author)`, `Load(Book).joinedload(Book.author)`)
# loads on the objects of the query it is written in: another Book's read gets its own option.
_CLASS_OPTIONS = {
    "selectinload": "selectinload(Book.author)",
    "joinedload": "joinedload(Book.author)",
    "Load": "Load(Book).joinedload(Book.author)",
}
_SECOND_BOOK = {
    "get": "second = session.get(Book, book_id + 1)",
    "select": "second = session.scalars(select(Book).where(Book.id == book_id + 1)).one()",
    "helper": "second = fetch(session, book_id + 1)",
}


@pytest.mark.parametrize("second", sorted(_SECOND_BOOK))
@pytest.mark.parametrize("option", sorted(_CLASS_OPTIONS))
def test_class_named_option_credits_only_its_own_query(app, option, second):
    helper = f"""
    from sqlalchemy.orm import Load, joinedload


    def fetch(session: Session, book_id: int) -> Book:
        return session.scalars(select(Book).where(Book.id == book_id)).one()


    def describe(session: Session, book_id: int) -> dict:
        first = session.scalars(select(Book).where(Book.id == book_id).options({_CLASS_OPTIONS[option]})).first()
        {_SECOND_BOOK[second]}
        return {{"first": first.author.name, "second": second.author.name}}
    """
    project = app(helper, SUMMARY_ROUTE)
    analysed = lazy_loads(project, route_ids(project))
    assert analysed.risks == []
    assert [f.describe(project_classes(project)) for f in analysed.fixes] == ["Book.author"]
    at = "select(Book).where(Book.id == book_id))" if second == "helper" else "book_id + 1"
    assert [f.line for f in analysed.fixes] == [line_of(project.root, "services/book_helper.py", at)]


def test_class_named_option_credits_every_object_of_its_query(app):
    # the objects of the optioned query, one by one or in a loop, and along a chained option
    helper = """
    def describe(session: Session, book_id: int) -> dict:
        books = session.scalars(
            select(Book).options(selectinload(Book.author).selectinload(Author.books))
        ).all()
        first = books[0]
        names = [book.author.name for book in books]
        for book in books:
            names.append(book.author.name)
        return {"first": first.author.name, "names": names, "more": len(first.author.books)}
    """
    project = app(helper, SUMMARY_ROUTE)
    assert lazy_loads(project, route_ids(project)) == LazyLoads([], [])


@pytest.mark.parametrize("strategy", ["selectin", "joined", "subquery", "immediate", "raise", "noload"])
def test_model_level_safe_strategy_is_no_risk(app, strategy):
    assert risks(app(DESCRIBE, SUMMARY_ROUTE, author_lazy=strategy)) == []


def test_dynamic_relationship_is_a_risk_even_with_an_option(app):
    helper = """
    def titles(session: Session, author_id: int) -> list[str]:
        author = session.scalars(select(Author).options(selectinload(Author.books))).one()
        return [b.title for b in author.books]
    """
    routes = """
    @router.get("/titles")
    def titles(session: session_dependency) -> list[str]:
        return book_helper.titles(session, 1)
    """
    found = risks(app(helper, routes, books_lazy="dynamic"))
    assert summary(found) == [("attribute", "titles", "author.books")]
    assert "dynamic" in found[0].message and "write_only" in found[0].fix


def test_option_on_another_class_does_not_credit_the_relationship(app):
    # Author.author does not exist, but an option naming another class must not
    # make `book.author` safe.
    extra_model = """
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import Mapped, mapped_column, relationship

    from models.book import Author, Base


    class Prize(Base):
        __tablename__ = "prizes"

        id: Mapped[int] = mapped_column(primary_key=True)
        author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
        author: Mapped[Author] = relationship()
    """
    helper = """
    from models.prize import Prize


    def describe(session: Session, book_id: int) -> dict:
        prizes = session.scalars(select(Prize).options(selectinload(Prize.author))).all()
        book = session.get(Book, book_id)
        return {"author": book.author.name, "prizes": len(prizes)}
    """
    found = risks(app(helper, SUMMARY_ROUTE, extra={"models/prize.py": dedent(extra_model)}))
    assert summary(found) == [("attribute", "describe", "book.author")]
    assert found[0].owner is None  # two classes declare `author`
    assert "Book.author" in found[0].message


def test_option_with_an_unresolved_class_credits_the_name(app):
    helper = """
    from sqlalchemy.orm import aliased


    def describe(session: Session, book_id: int) -> dict:
        alias = aliased(Book)
        book = session.scalars(select(alias).options(selectinload(alias.author))).one()
        return {"author": book.author.name}
    """
    assert risks(app(helper, SUMMARY_ROUTE)) == []


def test_option_on_a_subclass_credits_the_inherited_relationship(app):
    extra_model = """
    from models.book import Book


    class Ebook(Book):
        pass
    """
    helper = """
    from models.ebook import Ebook


    def describe(session: Session, book_id: int) -> dict:
        book = session.scalars(select(Ebook).options(selectinload(Ebook.author))).one()
        return {"author": book.author.name}
    """
    assert risks(app(helper, SUMMARY_ROUTE, extra={"models/ebook.py": dedent(extra_model)})) == []


def test_backref_names_are_relationships_of_the_class_they_land_on(app):
    extra_model = """
    from sqlalchemy.orm import Mapped, mapped_column, relationship

    from models.book import Base


    class Publisher(Base):
        __tablename__ = "publishers"

        id: Mapped[int] = mapped_column(primary_key=True)
        books = relationship("Book", backref="publisher")
    """
    helper = """
    def describe(session: Session, book_id: int) -> dict:
        book = session.get(Book, book_id)
        return {"publisher": book.publisher.id}
    """
    found = risks(app(helper, SUMMARY_ROUTE, extra={"models/publisher.py": dedent(extra_model)}))
    assert summary(found) == [("attribute", "describe", "book.publisher")]
    assert found[0].owner == "models.book.Book"
    assert "Book.publisher (the backref Publisher declares)" in found[0].message
    assert "selectinload(Book.publisher)" in found[0].fix


def test_a_backref_whose_class_is_unknown_is_one_of_any_class(app):
    # the relationship carrying it names no class the tool finds: where it lands is unknown
    extra_model = """
    from sqlalchemy.orm import Mapped, mapped_column, relationship

    from models.book import Base


    class Publisher(Base):
        __tablename__ = "publishers"

        id: Mapped[int] = mapped_column(primary_key=True)
        books = relationship("Nowhere", backref="publisher")
    """
    helper = """
    def describe(session: Session, book_id: int) -> dict:
        book = session.get(Book, book_id)
        return {"publisher": book.publisher.id}
    """
    found = risks(app(helper, SUMMARY_ROUTE, extra={"models/publisher.py": dedent(extra_model)}))
    assert summary(found) == [("attribute", "describe", "book.publisher")]
    assert found[0].owner is None
    assert "the backref 'publisher' declared on Publisher" in found[0].message


def test_class_attributes_in_queries_are_not_reads(app):
    helper = """
    def by_author(session: Session, name: str) -> list[int]:
        stmt = select(Book.id).join(Book.author).where(Author.name == name)
        return list(session.scalars(stmt))
    """
    routes = """
    @router.get("/ids")
    def ids(session: session_dependency) -> list[int]:
        return book_helper.by_author(session, "x")
    """
    assert risks(app(helper, routes)) == []


def test_annotated_receiver_of_a_non_orm_class_is_not_a_relationship_read(app):
    helper = """
    from schemas.book import BookDetail


    def author_name(payload: BookDetail) -> str:
        return payload.author.name
    """
    routes = """
    @router.post("/names")
    def names(payload: BookDetail) -> str:
        return book_helper.author_name(payload)
    """
    assert risks(app(helper, routes)) == []


def test_comprehension_and_loop_variables_are_local_receivers(app):
    helper = """
    def names(session: Session) -> list[str]:
        books = session.scalars(select(Book)).all()
        first = [b.author.name for b in books]
        for book in books:
            first.append(book.author.name)
        return first
    """
    routes = """
    @router.get("/names")
    def names(session: session_dependency) -> list[str]:
        return book_helper.names(session)
    """
    found = risks(app(helper, routes))
    assert summary(found) == [("attribute", "names", "b.author"), ("attribute", "names", "book.author")]


def test_eager_loads_are_credited_per_route(app):
    helper = """
    def load(session: Session, book_id: int) -> Book:
        return session.get(Book, book_id)


    def load_eager(session: Session, book_id: int) -> Book:
        return session.scalars(select(Book).options(selectinload(Book.author))).one()


    def author_name(book: Book) -> str:
        return book.author.name
    """
    routes = """
    @router.get("/a")
    def plain(session: session_dependency) -> str:
        return book_helper.author_name(book_helper.load(session, 1))


    @router.get("/b")
    def eager(session: session_dependency) -> str:
        return book_helper.author_name(book_helper.load_eager(session, 1))
    """
    found = risks(app(helper, routes))
    assert summary(found) == [("attribute", "author_name", "book.author")]
    assert found[0].routes == ("api.books.plain",)
    assert found[0].owner == "models.book.Book"  # the receiver parameter is annotated


def test_flows_of_one_project_share_only_what_their_closures_agree_on(app):
    # The flows of one project's routes keep what they resolve (eager_flow.Resolved): where
    # `book` in `author_name` comes from depends on which of its callers the route reaches.
    helper = """
    def load(session: Session, book_id: int) -> Book:
        return session.scalars(select(Book).where(Book.id == book_id)).one()


    def author_name(book: Book) -> str:
        return book.author.name
    """
    routes = """
    @router.get("/a")
    def loaded(session: session_dependency) -> str:
        book = book_helper.load(session, 1)
        return book_helper.author_name(book)


    @router.get("/b")
    def built(session: session_dependency) -> str:
        book = Book(title="untitled")
        return book_helper.author_name(book)
    """
    built = app(helper, routes)
    loaded, constructed = route_ids(built)

    def outcome(analysed: LazyLoads) -> tuple[list[str], list[tuple[FunctionId, str]]]:
        return [r.path for r in analysed.risks], [(f.fid, f.describe(project_classes(built))) for f in analysed.fixes]

    first = outcome(lazy_loads(built, [loaded]))
    second = outcome(lazy_loads(built, [constructed]))
    assert first == ([], [(("services.book_helper", "load"), "Book.author")])
    # judged by name, as alone: not the fix on the query of `load`, which this route never runs
    assert second == (["book.author"], [])
    alone = collected(built.root)  # type: ignore[attr-defined]
    assert outcome(lazy_loads(alone, [constructed])) == second


# -------------------------------------------------------------- response models

LOAD = """
def get(session: Session, book_id: int) -> Book | None:
    return session.get(Book, book_id)


def get_with_author(session: Session, book_id: int) -> Book | None:
    return session.scalars(select(Book).options(selectinload(Book.author))).first()


def get_deep(session: Session, book_id: int) -> Book | None:
    stmt = select(Book).options(selectinload(Book.author).selectinload(Author.books))
    return session.scalars(stmt).first()
"""


def test_response_model_with_a_relationship_field_is_a_risk(app):
    routes = """
    @router.get("/{book_id}", response_model=BookDetail)
    def read(book_id: int, session: session_dependency):
        return book_helper.get(session, book_id)
    """
    project = app(LOAD, routes)
    found = risks(project)
    assert summary(found) == [("response", "read", "BookDetail.author")]
    risk = found[0]
    assert risk.file == "api/books.py"
    assert risk.line == line_of(project.root, "api/books.py", "response_model=BookDetail")  # the decorator
    assert risk.owner == "models.book.Book"
    assert risk.message.startswith("response model BookDetail.author reads relationship Book.author")
    assert "selectinload(Book.author)" in risk.fix


def test_response_model_with_the_relationship_eager_loaded_is_safe(app):
    routes = """
    @router.get("/{book_id}", response_model=BookDetail)
    def read(book_id: int, session: session_dependency):
        return book_helper.get_with_author(session, book_id)
    """
    assert risks(app(LOAD, routes)) == []


def test_nested_response_model_field_is_followed(app):
    routes = """
    @router.get("/{book_id}/deep", response_model=list[BookDeep])
    def deep(book_id: int, session: session_dependency):
        return [book_helper.get_with_author(session, book_id)]
    """
    found = risks(app(LOAD, routes))
    # Book.author is loaded, Author.books (read through AuthorWithBooks) is not
    assert summary(found) == [("response", "deep", "BookDeep.author.books")]
    assert found[0].owner == "models.book.Author"


def test_nested_response_model_field_with_a_chained_option_is_safe(app):
    routes = """
    @router.get("/{book_id}/deep", response_model=list[BookDeep])
    def deep(book_id: int, session: session_dependency):
        return [book_helper.get_deep(session, book_id)]
    """
    assert risks(app(LOAD, routes)) == []


def test_return_annotation_is_the_response_model_without_response_model(app):
    routes = """
    @router.get("/{book_id}")
    def read(book_id: int, session: session_dependency) -> BookDetail:
        return book_helper.get(session, book_id)


    @router.get("/{book_id}/raw", response_model=None)
    def raw(book_id: int, session: session_dependency) -> BookDetail:
        return book_helper.get(session, book_id)


    @router.get("/{book_id}/plain", response_model=BookOut)
    def plain(book_id: int, session: session_dependency) -> BookDetail:
        return book_helper.get(session, book_id)
    """
    assert summary(risks(app(LOAD, routes))) == [("response", "read", "BookDetail.author")]


def test_self_referencing_response_models_terminate(app):
    schemas = """
    from __future__ import annotations

    from pydantic import BaseModel


    class AuthorNode(BaseModel):
        name: str
        books: list[BookNode]


    class BookNode(BaseModel):
        title: str
        author: AuthorNode
    """
    routes = """
    from schemas.graph import BookNode


    @router.get("/{book_id}/graph", response_model=BookNode)
    def graph(book_id: int, session: session_dependency):
        return book_helper.get(session, book_id)
    """
    found = risks(app(LOAD, routes, extra={"schemas/graph.py": dedent(schemas)}))
    # BookNode nests itself through Author.books: read on every level, which no option covers (AM166)
    assert sorted((r.code, *summary([r])[0]) for r in found) == [
        ("AM166", "attribute", "graph", "BookNode.author.books"),
        ("AM222", "response", "graph", "BookNode.author"),
    ]


# ----------------------------------------------------------------------- facts


def module_facts(source: str, path: str = "m.py") -> facts.Module:
    return collect(path, dedent(source))


def test_class_facts_record_bases_relationships_backrefs_and_fields():
    module = module_facts(
        """
        from typing import ClassVar, TYPE_CHECKING

        import sqlalchemy as sa
        from sqlalchemy.orm import Mapped, backref, relationship

        from db.base import Base

        if TYPE_CHECKING:
            class Hidden(Base):
                other = relationship("Other")


        class Parent(Base):
            registry: ClassVar[dict] = {}
            name: Mapped[str]
            children = relationship("Child", lazy="selectin", backref="parent")
            friends: Mapped[list["Friend"]] = sa.orm.relationship(lazy="dynamic")
            tags = relationship("Tag", lazy=False, backref=backref("owner", lazy="joined"))
            notes = relationship("Note", lazy=None)
            plain = relationship("Plain")
            custom = relationship("Custom", lazy=STRATEGY)

            class Meta:
                label: str
        """
    )
    by_name = {c.qualname: c for c in module.classes}
    assert list(by_name) == ["Hidden", "Parent", "Parent.Meta"]
    parent = by_name["Parent"]
    assert parent.line == 13
    assert parent.bases == ("db.base.Base",)
    assert parent.relationships == {
        "children": "selectin",
        "friends": "dynamic",
        "tags": "joined",
        "notes": "noload",
        "plain": "select",
        "custom": "STRATEGY",
    }
    assert parent.backrefs == {"parent": "select", "owner": "joined"}
    assert parent.fields == ("name", "friends")  # ClassVar is not a field
    # a forward reference to a name the module does not define stays as written
    assert parent.annotations["friends"] == ("sqlalchemy.orm.Mapped", "list", "Friend")
    assert by_name["Parent.Meta"].fields == ("label",)
    assert by_name["Hidden"].relationships == {"other": "select"}


def test_function_facts_record_eager_options_and_attribute_reads():
    module = module_facts(
        """
        from sqlalchemy import orm
        from sqlalchemy.orm import Load, contains_eager, joinedload, selectinload

        from models import Author, Book
        import models

        CONSTANT = 1


        async def load(session, book_id, loader):
            stmt = select(Book).options(
                joinedload(Book.author).selectinload(Author.books.of_type(Author)),
                orm.subqueryload(Book.tags.and_(True)),
                contains_eager(Book.reviews),
                Load(Book).selectinload(Book.prizes),
                selectinload("*"),
            )
            book = (await session.scalars(stmt)).one()
            await session.refresh(book, ["editor"])
            session.refresh(book, attribute_names=("publisher",))
            other = await book.awaitable_attrs.series
            book.title = models.Book.title
            session.add(book)
            return [tag.name for tag in book.tags], CONSTANT.real, Book.author, loader.selectinload
        """
    )
    function = module.function("load")
    assert function is not None
    assert sorted(function.eager) == sorted([
        ("models.Book", "author"),
        ("models.Author", "books"),
        ("models.Book", "tags"),
        ("models.Book", "reviews"),
        ("models.Book", "prizes"),
    ])
    # a string path or wildcard loads on its query's objects only (`Load.options`), a refresh
    # and `awaitable_attrs` on the object they are given only
    assert function.refreshed == [(19, "book", "editor"), (20, "book", "publisher"), (21, "book", "series")]
    # `session.scalars`/`session.add` are calls, `models.Book`/`Book.author`/`CONSTANT.real`
    # read module-level names; `loader.selectinload` is a local read
    assert function.attributes == [
        (21, "book", "awaitable_attrs"),
        (22, "book", "title"),
        (24, "tag", "name"),
        (24, "book", "tags"),
        (24, "loader", "selectinload"),
    ]


def test_attribute_reads_on_self_and_cls_are_not_recorded():
    module = module_facts(
        """
        class Book:
            def describe(self, other):
                return self.author.name, other.author.name
        """
    )
    function = module.function("Book.describe")
    assert function is not None
    assert function.attributes == [(3, "other", "author")]


def test_route_decorators_record_the_response_model():
    module = module_facts(
        """
        from fastapi import APIRouter

        from schemas import BookOut

        router = APIRouter()


        @router.get("/a", response_model=list[BookOut])
        def a(): ...


        @router.get("/b", response_model=BookOut)
        def b(): ...


        @router.get("/c", response_model=None)
        def c(): ...


        @router.get("/d")
        def d() -> BookOut: ...
        """
    )
    decorators = {f.name: f.decorators[0] for f in module.functions}
    a, b = decorators["a"], decorators["b"]
    assert (a.response_model, a.response_refs) == (None, ("list", "schemas.BookOut"))
    assert (b.response_model, b.response_refs) == ("schemas.BookOut", ("schemas.BookOut",))
    assert decorators["c"].response_model == "None"
    assert (decorators["d"].response_model, decorators["d"].response_refs) == (None, ())


# ---------------------------------------------------------- the sample service


@pytest.fixture(scope="module")
def bookshop() -> Project:
    return collected(BOOKSHOP)


def test_bookshop_describe_book_reads_author_and_tags_lazily(bookshop):
    found = risks(bookshop)
    in_describe = [r for r in found if r.function == "services.book_helper.describe_book"]
    # `book = session.get(Book, book_id)` then `book.author.name` and `book.tags`
    assert [(r.line, r.path, r.owner) for r in in_describe] == [
        (75, "book.author", "models.book.Book"),
        (76, "book.tags", "models.book.Book"),
    ]
    assert all(r.routes == ("api.books.book_summary",) for r in in_describe)


def test_bookshop_get_book_is_eager_loaded(bookshop):
    # get_book_with_relations(...) runs `.options(*_with_relations())`: selectinload of
    # Book.author and Book.tags, the two relationship fields of BookDetail.
    found = risks(bookshop)
    assert [r for r in found if "api.books.get_book" in r.routes] == []
    for route in ("list_books", "recommended_books", "create_book", "export"):
        assert [r for r in found if f"api.books.{route}" in r.routes] == [], route


def test_bookshop_update_book_assigns_a_collection_of_an_object_loaded_without_options(bookshop):
    # update_book loads `book` with session.get(Book, pk) and assigns `book.tags`: the
    # old collection is loaded first, which raises MissingGreenlet under AsyncSession
    # (seen in the service's own tests), even though other queries of the same routes
    # selectin-load Book.tags.
    found = [r for r in risks(bookshop) if r.path == "book.tags" and "update_book" in r.function]
    assert [sorted(r.routes) for r in found] == [["api.books.patch_book", "api.books.replace_book"]]


def test_bookshop_risks_of_the_book_routes(bookshop):
    # book_details returns a dict: its `book` and `reviews` keys share their names with
    # lazy relationships (Review.book, Book.reviews), which name-based matching reports.
    assert summary(risks(bookshop)) == [
        ("response", "book_details", "BookDetailsPayload.book"),
        ("response", "book_details", "BookDetailsPayload.reviews"),
        ("attribute", "describe_book", "book.author"),
        ("attribute", "describe_book", "book.tags"),
        ("attribute", "update_book", "book.tags"),
    ]


def test_bookshop_other_routers(bookshop):
    authors = summary(risks(bookshop, "api/authors.py"))
    # get_author returns session.get(Author, ...) for AuthorDetail, whose `books` field
    # is the lazy Author.books; delete_author reads `author.books` after session.get.
    assert authors == [
        ("response", "get_author", "AuthorDetail.books"),
        ("attribute", "delete_author", "author.books"),
    ]
    reviews = summary(risks(bookshop, "api/reviews.py"))
    assert ("response", "get_review", "ReviewWithUser.user") in reviews


def _pre_pass(root: Path) -> Project:
    """The CLI's pre-pass (markers, then the modules references lead into)."""
    with Pool(root, 1) as pool:
        project, errors, _ = collect_project(root, Config(), Options(jobs=1), pool, keep=())
    assert errors == []
    return project


def test_the_pre_pass_collects_what_the_analysis_needs(app):
    # schemas/book.py and models/book.py have none of the pre-pass markers: they are
    # reached through the imports of the router and the helper.
    routes = """
    @router.get("/{book_id}", response_model=BookDetail)
    def read(book_id: int, session: session_dependency):
        return book_helper.get(session, book_id)
    """
    full = app(LOAD, routes)
    project = _pre_pass(full.root)
    assert {"schemas/book.py", "models/book.py"} <= {m.path for m in project.modules.values()}
    line = line_of(full.root, "api/books.py", "response_model")
    assert [(r.kind, r.path, r.line, r.routes) for r in risks(project)] == [
        (r.kind, r.path, r.line, r.routes) for r in risks(full)
    ] == [("response", "BookDetail.author", line, ("api.books.read",))]


def test_bookshop_through_the_pre_pass(bookshop):
    project = _pre_pass(BOOKSHOP)
    assert [(r.kind, r.function, r.path, r.line, r.routes) for r in risks(project)] == [
        (r.kind, r.function, r.path, r.line, r.routes) for r in risks(bookshop)
    ]


# ------------------------------------------ names narrowed by return annotations

# `Shelf.books` shares its name with `Author.books`: by name alone, a response field `books`
# could be either.
SHELF = """
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.book import Base, Book


class Shelf(Base):
    __tablename__ = "shelves"

    id: Mapped[int] = mapped_column(primary_key=True)
    books: Mapped[list[Book]] = relationship()
"""
AUTHORS_ROUTE = """
from schemas.book import AuthorWithBooks


@router.get("/authors", response_model=list[AuthorWithBooks])
def authors(session: session_dependency):
    found = book_helper.authors_with_books(session)
    return found
"""


@pytest.mark.parametrize("annotation", [" -> list[Author]", ""], ids=["annotated", "unannotated"])
def test_a_return_annotation_narrows_a_response_field_to_its_class(app, annotation):
    helper = f"""
    def authors_with_books(session: Session){annotation}:
        return list(session.scalars(select(Author).options(selectinload(Author.books))).all())
    """
    project = app(helper, AUTHORS_ROUTE, extra={"models/shelf.py": dedent(SHELF)})
    found = risks(project)
    if annotation:
        assert found == []  # the objects are Authors, and Author.books is loaded
        return
    # Near miss: without the annotation the objects could be Shelves, whose books nothing loads.
    assert summary(found) == [("response", "authors", "AuthorWithBooks.books")]
    assert "Shelf.books" in found[0].message and "selectinload(Shelf.books)" in found[0].fix


def test_a_narrowed_fix_names_the_option_of_the_query_s_class(app):
    # Near miss: the annotation says Author but nothing loads Author.books: the risk stays, and
    # its fix names Author's option only (Shelf's would raise on an Author query).
    helper = """
    def authors_with_books(session: Session) -> list[Author] | None:
        return list(session.scalars(select(Author)).all())
    """
    project = app(helper, AUTHORS_ROUTE, extra={"models/shelf.py": dedent(SHELF)})
    found = risks(project)
    assert summary(found) == [("response", "authors", "AuthorWithBooks.books")]
    assert "Author.books" in found[0].message and "Shelf" not in found[0].message + found[0].fix
    assert "selectinload(Author.books)" in found[0].fix


# ------------------------------------------ reads on objects of classes no mapper knows

UNIT_OF_WORK = """
class BookRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count(self) -> int:
        return len(self.session.scalars(select(Book)).all())


class UnitOfWork:
    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> "UnitOfWork":
        self.books = BookRepository(self.session)
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()


def first_author(session: Session) -> Author:
    return session.scalars(select(Author)).one()


def count_books(session: Session) -> int:
    with UnitOfWork(session) as uow:
        total = uow.books.count()
    author = first_author(session)
    return total + len(author.books)
"""
COUNT_ROUTE = """
@router.get("/books/count")
def count(session: session_dependency) -> int:
    return book_helper.count_books(session)
"""


def test_an_attribute_of_a_unit_of_work_is_no_relationship(app):
    # `uow.books` is the unit of work's repository (UnitOfWork is no mapped class), although
    # `books` names Author.books; near miss: `author.books`, on an Author, still is.
    project = app(UNIT_OF_WORK, COUNT_ROUTE)
    assert summary(risks(project)) == [("attribute", "count_books", "author.books")]


# --------------------------------------- reads on an object the function just built

TRANSIENT = """
def new_author(session: Session, name: str, title: str) -> int:
    author = Author(name=name)
    author.books.append(Book(title=title))  # transient: no Session, nothing to load
    session.add(author)
    session.flush()
    return author.id


def new_book(session: Session, title: str, author_id: int) -> str:
    book = Book(title=title, author_id=author_id)
    session.add(book)
    session.flush()
    return book.author.name  # persistent now, `author` never set: loads


def add_books(session: Session, name: str, titles: list[str]) -> None:
    author = Author(name=name)
    for title in titles:
        author.books.append(Book(title=title))  # the next turn reads after the commit expired it
        session.add(author)
        session.commit()
"""
TRANSIENT_ROUTES = """
@router.post("/authors")
def create_author(name: str, title: str, session: session_dependency) -> int:
    return book_helper.new_author(session, name, title)


@router.post("/books")
def create_book(title: str, author_id: int, session: session_dependency) -> str:
    return book_helper.new_book(session, title, author_id)


@router.post("/authors/many")
def create_many(name: str, titles: list[str], session: session_dependency) -> None:
    book_helper.add_books(session, name, titles)
"""


def test_a_read_on_an_object_built_in_the_function_before_it_is_added_is_no_lazy_load(app):
    project = app(TRANSIENT, TRANSIENT_ROUTES)
    # Near misses: a read after `session.add` + flush, and one a loop repeats after the commit.
    assert summary(risks(project)) == [
        ("attribute", "new_book", "book.author"),
        ("attribute", "add_books", "author.books"),
    ]


def test_an_object_whose_class_has_its_own_constructor_is_not_judged_transient(app):
    # Near miss: a project `__init__` may hand the new object to a Session itself.
    models = """
    from models.book import Author as _Author


    class Author(_Author):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)
    """
    helper = """
    from models.own import Author as OwnAuthor


    def new_author(session: Session, name: str, title: str) -> int:
        author = OwnAuthor(name=name)
        author.books.append(Book(title=title))
        session.add(author)
        return 1
    """
    routes = """
    @router.post("/authors")
    def create_author(name: str, title: str, session: session_dependency) -> int:
        return book_helper.new_author(session, name, title)
    """
    project = app(helper, routes, extra={"models/own.py": dedent(models)})
    assert summary(risks(project)) == [("attribute", "new_author", "author.books")]
