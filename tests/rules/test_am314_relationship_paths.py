"""AM314 on relationship paths and Session aliases `check` passed: an `async def` route on an
AsyncSession whose object reaches a lazy load past the relationship its query eager-loads.

- a project helper handed the object reads a path on it (`b.author.books`, or `a = b.author` then
  `a.books`): judged before on the last attribute alone against the class handed (a Book has no
  `books`), so "no findings";
- the route reads the path through a local (`author = book.author` then `author.books`), or
  `Author.books` is declared `lazy="selectin"`, which SQLAlchemy does not run back to the Book the
  path started from after `selectinload(Book.author)`: both taken as covered;
- the route reads a relationship of the object an `async def` dependency loaded on the request's
  AsyncSession (`book: CurrentBook`, `CurrentBook = Annotated[Book, Depends(get_book)]` in another
  module), or one a callable class's `__call__` loaded (`Depends(BookLoader())`), that its query
  does not load: never looked at;
- the route opens its own AsyncSession (`async with maker() as db:`, `AsyncSession(engine)`) and
  reads what it left unloaded, or what its commit expired (`expire_on_commit=True`): only a
  parameter's AsyncSession was judged;
- the route reads an attribute by a name given at run time (`getattr(book, field)`) on an object
  whose class has a relationship its query does not load: unverified, not cleared; a name the call
  spells (`getattr(book, "author")`) is read as `book.author` is, so a column, or a relationship
  its query loads (the eager load phase two adds for it), is no finding;
- the AsyncSession reaches a repository declared `db: SessionDep` in its class body, or the route
  as `db=DbDep` (`DbDep = Depends(get_session)`), the alias in another module or this one: not
  recognised as an AsyncSession at all.

A collection element's many-to-one back to the object holding the collection (`for b in
author.books: b.author`) is that object, in the identity map: no load, and no finding."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sample import load_module
from sqlalchemy.exc import MissingGreenlet, StatementError

MODELS = '''
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    books: Mapped[list["Book"]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


class Publisher(Base):
    __tablename__ = "publishers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    series: Mapped[list["Series"]] = relationship(back_populates="publisher", lazy="selectin")


class Series(Base):
    __tablename__ = "series"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    publisher_id: Mapped[int] = mapped_column(ForeignKey("publishers.id"))
    publisher: Mapped[Publisher] = relationship(back_populates="series")
'''

SERVICES = '''
from models import Author, Book


def shelf_of(b: Book) -> list[str]:
    return [x.title for x in b.author.books]


def shelf_size(b):
    a = b.author
    return len(a.books)


def author_names(a: Author) -> list[str]:
    return [b.author.name for b in a.books]


def title_of(b: Book) -> str:
    return b.title
'''

ENGINE = '''
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite://")
maker = async_sessionmaker(engine, expire_on_commit=False)
expiring = async_sessionmaker(engine)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
'''

ALIASES = '''
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from db.async_engine import get_session

SessionDep = Annotated[AsyncSession, Depends(get_session)]
DbDep = Depends(get_session)
'''

DEPENDENCIES = '''
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import selectinload

from core.async_deps import SessionDep
from models import Book


async def get_book(book_id: int, db: SessionDep) -> Book:
    return await db.get(Book, book_id)


async def get_loaded_book(book_id: int, db: SessionDep) -> Book:
    return await db.get(Book, book_id, options=[selectinload(Book.author)])


class BookLoader:
    async def __call__(self, book_id: int, db: SessionDep) -> Book:
        return await db.get(Book, book_id)


CurrentBook = Annotated[Book, Depends(get_book)]
LoadedBook = Annotated[Book, Depends(get_loaded_book)]
ClassBook = Annotated[Book, Depends(BookLoader())]
'''

ROUTES = '''
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.async_deps import DbDep, SessionDep
from db.async_engine import engine, expiring, get_session, maker
from models import Author, Book, Series
from services import author_names, shelf_of, shelf_size, title_of
from book_deps import ClassBook, CurrentBook, LoadedBook, get_book

LocalDep = Annotated[AsyncSession, Depends(get_session)]
LocalDbDep = Depends(get_session)


@router.get("/helper-path/{book_id}")
async def helper_path(book_id: int, db: SessionDep):
    book = await db.get(Book, book_id, options=[selectinload(Book.author)])
    return shelf_of(book)


@router.get("/helper-local/{book_id}")
async def helper_local(book_id: int, db: SessionDep):
    book = await db.get(Book, book_id, options=[selectinload(Book.author)])
    return shelf_size(book)


@router.get("/helper-loaded/{book_id}")
async def helper_loaded(book_id: int, db: SessionDep):
    book = await db.get(Book, book_id, options=[selectinload(Book.author).selectinload(Author.books)])
    return [shelf_of(book), shelf_size(book)]


@router.get("/helper-column/{book_id}")
async def helper_column(book_id: int, db: SessionDep):
    book = await db.get(Book, book_id)
    return title_of(book)


@router.get("/helper-back/{author_id}")
async def helper_back(author_id: int, db: SessionDep):
    author = (await db.scalars(select(Author).where(Author.id == author_id).options(selectinload(Author.books)))).one()
    return author_names(author)


@router.get("/local-path/{book_id}")
async def local_path(book_id: int, db: SessionDep):
    book = await db.get(Book, book_id, options=[selectinload(Book.author)])
    author = book.author
    return [b.title for b in author.books]


@router.get("/declared-back/{series_id}")
async def declared_back(series_id: int, db: AsyncSession = Depends(get_session)):
    stmt = select(Series).where(Series.id == series_id).options(selectinload(Series.publisher))
    series = (await db.scalars(stmt)).one()
    return [s.name for s in series.publisher.series]


@router.get("/local-loaded/{book_id}")
async def local_loaded(book_id: int, db: SessionDep):
    book = await db.get(Book, book_id, options=[selectinload(Book.author).selectinload(Author.books)])
    author = book.author
    return [[b.title, len(b.author.books)] for b in author.books]


@router.get("/declared-loaded/{series_id}")
async def declared_loaded(series_id: int, db: AsyncSession = Depends(get_session)):
    stmt = select(Series).where(Series.id == series_id).options(
        selectinload(Series.publisher).selectinload(Publisher.series)
    )
    series = (await db.scalars(stmt)).one()
    return [s.name for s in series.publisher.series]


@router.get("/back-in-loop/{author_id}")
async def back_in_loop(author_id: int, db: SessionDep):
    author = (await db.scalars(select(Author).where(Author.id == author_id).options(selectinload(Author.books)))).one()
    return [b.author.name for b in author.books]


class ImportedRepo:
    db: SessionDep

    def __init__(self, db):
        self.db = db

    async def author_name(self, book_id: int) -> str:
        book = await self.db.get(Book, book_id)
        return book.author.name

    async def loaded_name(self, book_id: int) -> str:
        book = await self.db.get(Book, book_id, options=[selectinload(Book.author)])
        return book.author.name


class LocalRepo:
    db: LocalDep

    def __init__(self, db):
        self.db = db

    async def author_name(self, book_id: int) -> str:
        book = await self.db.get(Book, book_id)
        return book.author.name


@router.get("/repo-imported/{book_id}")
async def repo_imported(book_id: int, db: SessionDep):
    return await ImportedRepo(db).author_name(book_id)


@router.get("/repo-local/{book_id}")
async def repo_local(book_id: int, db: SessionDep):
    return await LocalRepo(db).author_name(book_id)


@router.get("/repo-loaded/{book_id}")
async def repo_loaded(book_id: int, db: SessionDep):
    return await ImportedRepo(db).loaded_name(book_id)


@router.get("/default-imported/{book_id}")
async def default_imported(book_id: int, db=DbDep):
    book = await db.get(Book, book_id)
    return book.author.name


@router.get("/default-local/{book_id}")
async def default_local(book_id: int, db=LocalDbDep):
    book = await db.get(Book, book_id)
    return book.author.name


@router.get("/by-name/{book_id}")
async def by_name(book_id: int, field: str, db: SessionDep):
    book = await db.get(Book, book_id)
    return {field: getattr(book, field)}


@router.get("/by-literal/{book_id}")
async def by_literal(book_id: int, db: SessionDep):
    book = await db.get(Book, book_id)
    return getattr(book, "author").name


@router.get("/by-literal-column/{book_id}")
async def by_literal_column(book_id: int, db: SessionDep):
    book = await db.get(Book, book_id)
    return {"title": getattr(book, "title")}


@router.get("/by-literal-loaded/{book_id}")
async def by_literal_loaded(book_id: int, db: SessionDep):
    book = await db.get(Book, book_id, options=[selectinload(Book.author)])
    return getattr(book, "author").name


@router.post("/expired-by-literal")
async def expired_by_literal(title: str):
    async with expiring() as db:
        book = Book(title=title, author_id=1)
        db.add(book)
        await db.commit()
        return {"title": getattr(book, "title")}


@router.get("/by-name-loaded/{book_id}")
async def by_name_loaded(book_id: int, field: str, db: SessionDep):
    book = await db.get(Book, book_id, options=[selectinload(Book.author)])
    return {field: str(getattr(book, field))}


@router.get("/from-dependency/{book_id}")
async def from_dependency(book: CurrentBook):
    return book.author.name


@router.get("/from-dependency-inline/{book_id}")
async def from_dependency_inline(book: Annotated[Book, Depends(get_book)]):
    return {"author": book.author.name}


@router.get("/from-dependency-loaded/{book_id}")
async def from_dependency_loaded(book: LoadedBook):
    return book.author.name


@router.get("/from-dependency-column/{book_id}")
async def from_dependency_column(book: CurrentBook):
    return book.title


@router.get("/from-dependency-class/{book_id}")
async def from_dependency_class(book: ClassBook):
    return book.author.name


@router.get("/from-dependency-class-column/{book_id}")
async def from_dependency_class_column(book: ClassBook):
    return {"title": book.title, "author": book.author_id}  # columns, the foreign key too


@router.get("/opened/{book_id}")
async def opened(book_id: int):
    async with maker() as db:
        book = await db.get(Book, book_id)
        return book.author.name


@router.get("/opened-session/{book_id}")
async def opened_session(book_id: int):
    async with AsyncSession(engine) as db:
        book = await db.get(Book, book_id, options=[selectinload(Book.author)])
        return shelf_of(book)


@router.get("/opened-loaded/{book_id}")
async def opened_loaded(book_id: int):
    async with maker() as db:
        book = await db.get(Book, book_id, options=[selectinload(Book.author)])
        return book.author.name


@router.post("/opened-expired")
async def opened_expired(title: str):
    async with expiring() as db:
        book = Book(title=title, author_id=1)
        db.add(book)
        await db.commit()
        return {"id": book.id}


@router.post("/expired-by-name")
async def expired_by_name(title: str, field: str):
    async with expiring() as db:
        book = Book(title=title, author_id=1)
        db.add(book)
        await db.commit()
        return {field: getattr(book, field)}


@router.post("/refreshed-by-name")
async def refreshed_by_name(title: str, field: str):
    async with expiring() as db:
        book = Book(title=title, author_id=1)
        db.add(book)
        await db.commit()
        await db.refresh(book)
        return {field: getattr(book, field)}


@router.post("/opened-kept")
async def opened_kept(title: str):
    async with maker() as db:
        book = Book(title=title, author_id=1)
        db.add(book)
        await db.commit()
        return {"id": book.id}


@router.post("/opened-session-kept")
async def opened_session_kept(title: str):
    async with AsyncSession(engine, expire_on_commit=False) as db:
        book = Book(title=title, author_id=1)
        db.add(book)
        await db.commit()
        return {"id": book.id}


@router.get("/default-loaded/{book_id}")
async def default_loaded(book_id: int, db=DbDep):
    book = await db.get(Book, book_id, options=[selectinload(Book.author)])
    return book.author.name
'''.replace("from models import Author, Book, Series", "from models import Author, Book, Publisher, Series")


@pytest.fixture
def root(app) -> Path:  # type: ignore[no-untyped-def]
    files = {
        "models.py": MODELS, "services.py": SERVICES, "db/async_engine.py": ENGINE, "core/async_deps.py": ALIASES,
        "book_deps.py": DEPENDENCIES,
    }
    return app(ROUTES, files)


@pytest.mark.parametrize(
    ("function", "read"),
    [
        ("helper_path", "b.author.books (lazy load at services.py:"),
        ("helper_local", "a.books (lazy load at services.py:"),
        ("local_path", "author.books (lazy load), its Author through author of the Book"),
        ("declared_back", "series.publisher.series (lazy load), its Publisher through publisher of the Series"),
        ("repo_imported", "book.author (lazy load at api/items.py:"),
        ("repo_local", "book.author (lazy load at api/items.py:"),
        ("default_imported", "book.author (lazy load), its Book"),
        ("default_local", "book.author (lazy load), its Book"),
        ("from_dependency", "book.author (lazy load), its Book from the dependency book_deps.get_book"),
        ("from_dependency_inline", "book.author (lazy load), its Book from the dependency book_deps.get_book"),
        # a callable-class instance's `__call__` is the dependency FastAPI runs
        ("from_dependency_class", "book.author (lazy load), its Book from the dependency book_deps.BookLoader.__call__"),
        ("opened", "book.author (lazy load), its Book from the query at line"),
        ("opened_session", "b.author.books (lazy load at services.py:"),
        ("opened_expired", "book.id (expired by the db.commit() at line"),
        ("expired_by_name", "getattr(book, ...) (expired by the db.commit() at line"),
        ("by_name", "getattr(book, ...) (an attribute named at run time, which the analysis does not read: unverified"),
        # a name the call spells is read as the attribute is, not as one named at run time
        ("by_literal", "book.author (lazy load), its Book from the query at line"),
        ("expired_by_literal", "(expired by the db.commit() at line"),
    ],
)
def test_a_lazy_load_past_the_eager_load_or_on_an_aliased_session_is_am314(root, findings, function, read):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert read in found[0]["message"], found
    assert "MissingGreenlet" in found[0]["message"], found


@pytest.mark.parametrize(
    "function",
    [
        "helper_loaded", "helper_column", "helper_back", "local_loaded", "declared_loaded", "back_in_loop",
        "repo_loaded", "default_loaded", "by_name_loaded", "by_literal_column", "by_literal_loaded",
        "from_dependency_loaded", "from_dependency_column", "from_dependency_class_column", "opened_loaded",
        "opened_kept", "opened_session_kept", "refreshed_by_name",
    ],
)
def test_near_miss_loaded_along_the_path_a_column_or_back_to_the_holder(root, findings, function):
    assert findings(root, function) == []


@pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited")
def test_the_premise_the_reported_reads_raise_and_the_near_misses_run(tmp_path, monkeypatch):
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.orm import selectinload

    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    models = load_module(tmp_path, "models", MODELS)
    services = load_module(tmp_path, "services", SERVICES)
    Author, Book, Publisher, Series = models.Author, models.Book, models.Publisher, models.Series

    async def run() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/premise.db")
        async with engine.begin() as conn:
            await conn.run_sync(models.Base.metadata.create_all)
        maker = async_sessionmaker(engine, expire_on_commit=False)
        expiring = async_sessionmaker(engine)
        async with maker() as db:
            author = Author(name="Le Guin")
            db.add_all([Book(title="Earthsea", author=author), Book(title="Lathe", author=author)])
            db.add(Series(name="Hainish", publisher=Publisher(name="Ace")))
            await db.commit()
        for read in (services.shelf_of, services.shelf_size, lambda b: [x.title for x in b.author.books]):
            async with maker() as db:
                book = await db.get(Book, 1, options=[selectinload(Book.author)])
                with pytest.raises((MissingGreenlet, StatementError)):
                    read(book)
        async with maker() as db:
            stmt = select(Series).options(selectinload(Series.publisher))
            series = (await db.scalars(stmt)).one()
            with pytest.raises((MissingGreenlet, StatementError)):
                [s.name for s in series.publisher.series]
        async with maker() as db:
            book = await db.get(Book, 1)
            with pytest.raises((MissingGreenlet, StatementError)):
                _ = book.author.name
        async with maker() as db:
            book = await db.get(Book, 1)
            with pytest.raises((MissingGreenlet, StatementError)):
                getattr(book, "author")  # noqa: B009  (the name a request gives)
        # the near misses
        async with maker() as db:
            book = await db.get(Book, 1, options=[selectinload(Book.author).selectinload(Author.books)])
            assert services.shelf_of(book) == ["Earthsea", "Lathe"] and services.shelf_size(book) == 2
            assert [[b.title, len(b.author.books)] for b in book.author.books] == [["Earthsea", 2], ["Lathe", 2]]
            assert services.title_of(book) == "Earthsea"
        async with maker() as db:
            book = await db.get(Book, 1, options=[selectinload(Book.author)])
            assert [str(getattr(book, field)) for field in ("title", "author_id")] == ["Earthsea", "1"]
            assert getattr(book, "author").name == "Le Guin"  # noqa: B009
        async with maker() as db:
            stmt = select(Series).options(selectinload(Series.publisher).selectinload(Publisher.series))
            series = (await db.scalars(stmt)).one()
            assert [s.name for s in series.publisher.series] == ["Hainish"]
        async with maker() as db:
            stmt = select(Author).options(selectinload(Author.books))
            author = (await db.scalars(stmt)).one()
            assert services.author_names(author) == ["Le Guin", "Le Guin"]
        # a commit on a sessionmaker keeping expire_on_commit=True expires what the route reads next
        async with expiring() as db:
            created = Book(title="Tehanu", author_id=1)
            db.add(created)
            await db.commit()
            with pytest.raises((MissingGreenlet, StatementError)):
                _ = created.id
        async with expiring() as db:
            created = Book(title="Tehanu", author_id=1)
            db.add(created)
            await db.commit()
            with pytest.raises((MissingGreenlet, StatementError)):
                getattr(created, "title")  # noqa: B009  (the name a request gives)
            await db.refresh(created)
            assert getattr(created, "title") == "Tehanu"  # noqa: B009
        async with maker() as db:
            created = Book(title="Tales", author_id=1)
            db.add(created)
            await db.commit()
            assert created.id == 5
        await engine.dispose()

    asyncio.run(run())


@pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited")
def test_the_premise_a_route_reading_what_an_async_dependency_loaded_fails_when_served(tmp_path, monkeypatch):
    """The routes served on FastAPI: the dependency's AsyncSession is the request's, still open,
    and the route's read of what it left unloaded is the lazy load, which fails there."""
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    engine_text = ENGINE.replace("sqlite+aiosqlite://", f"sqlite+aiosqlite:///{tmp_path}/served.db")
    for package in ("db", "core"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "db" / "async_engine.py").write_text(engine_text, encoding="utf-8")
    (tmp_path / "core" / "async_deps.py").write_text(ALIASES, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    models = load_module(tmp_path, "models", MODELS)
    sync = create_engine(f"sqlite:///{tmp_path}/served.db")
    models.Base.metadata.create_all(sync)
    with Session(sync) as db:
        db.add(models.Book(title="Earthsea", author=models.Author(name="Le Guin")))
        db.commit()
    sync.dispose()

    load_module(tmp_path, "book_deps", DEPENDENCIES)
    served = load_module(tmp_path, "served", """
        from fastapi import FastAPI

        from book_deps import ClassBook, CurrentBook, LoadedBook

        app = FastAPI()


        @app.get("/lazy/{book_id}")
        async def lazy(book: CurrentBook) -> str:
            return book.author.name


        @app.get("/loaded/{book_id}")
        async def loaded(book: LoadedBook) -> str:
            return book.author.name


        @app.get("/class/{book_id}")
        async def by_class(book: ClassBook) -> str:
            return book.author.name
    """)
    with TestClient(served.app) as client:
        assert client.get("/loaded/1").json() == "Le Guin"
        with pytest.raises((MissingGreenlet, StatementError)):
            client.get("/lazy/1")
        with pytest.raises((MissingGreenlet, StatementError)):
            client.get("/class/1")
