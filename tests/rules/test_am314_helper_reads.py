"""AM314 through a helper: an `async def` route on an AsyncSession handing the objects its query
loaded to a project function (`return [item_out(b) for b in books]`) that reads a relationship,
directly, through a hybrid property or an association proxy, or a subclass's relationship on a
polymorphic query. The helper runs on the event loop outside any greenlet, so the lazy load raises
MissingGreenlet. Before, `check` read only the route's own body and awaited helpers declared to
take an AsyncSession, and said "no findings"."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sample import load_module
from sqlalchemy.exc import MissingGreenlet, StatementError

MODELS = '''
from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedAsDataclass, mapped_column, relationship


class Base(MappedAsDataclass, DeclarativeBase):
    pass


item_tags = Table(
    "item_tags", Base.metadata,
    Column("item_id", ForeignKey("items.id"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True),
)


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    name: Mapped[str] = mapped_column(String(50))


class Publisher(Base):
    __tablename__ = "publishers"
    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    name: Mapped[str] = mapped_column(String(50))


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    name: Mapped[str] = mapped_column(String(50))


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    kind: Mapped[str] = mapped_column(String(20), init=False)
    title: Mapped[str] = mapped_column(String(50))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"), default=None, init=False)
    author: Mapped[Author | None] = relationship(default=None)
    tags: Mapped[list[Tag]] = relationship(secondary=item_tags, default_factory=list)
    tag_names: AssociationProxy[list[str]] = association_proxy("tags", "name", init=False)

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "item"}

    @hybrid_property
    def byline(self) -> str:
        return f"{self.title} by {self.author.name}" if self.author else self.title


class Book(Item):
    __mapper_args__ = {"polymorphic_identity": "book"}


class Magazine(Item):
    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("publishers.id"), default=None, init=False)
    publisher: Mapped[Publisher | None] = relationship(default=None)

    __mapper_args__ = {"polymorphic_identity": "magazine"}
'''

SERVICES = '''
from models import Item, Magazine


def item_out(item: Item) -> dict:
    out = {"title": item.title, "publisher": None}
    if isinstance(item, Magazine) and item.publisher is not None:
        out["publisher"] = item.publisher.name
    return out


def byline_of(item: Item) -> str:
    return item.byline


def names_of(item):
    return sorted(item.tag_names)


def author_of(item: Item) -> str:
    return item.author.name if item.author else ""
'''

ROUTES = '''
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book, Item
from services import author_of, byline_of, item_out, names_of


@router.get("/hybrid")
async def hybrid(db: AsyncSession):
    books = (await db.scalars(select(Book))).all()
    return [byline_of(b) for b in books]


@router.get("/proxy/{book_id}")
async def proxy(book_id: int, db: AsyncSession):
    book = await db.get(Book, book_id)
    return names_of(book)


@router.get("/subclass")
async def subclass(db: AsyncSession):
    items = (await db.scalars(select(Item).options(selectinload(Item.author)))).all()
    return [item_out(i) for i in items]


@router.get("/direct")
async def direct(db: AsyncSession):
    out = []
    for b in (await db.scalars(select(Book))).all():
        out.append(author_of(b))
    return out


@router.get("/eager")
async def eager(db: AsyncSession):
    books = (await db.scalars(select(Book).options(selectinload(Book.author), selectinload(Book.tags)))).all()
    return [[byline_of(b), names_of(b)] for b in books]


@router.get("/books-only")
async def books_only(db: AsyncSession, tag: str | None = None):
    books = (await db.scalars(select(Book).options(selectinload(Book.tags)))).all()
    if tag is not None:
        books = [b for b in books if tag in b.tag_names]
    return [item_out(b) for b in books]


async def author_name(db: AsyncSession, book_id: int) -> str:
    stmt = select(Book).where(Book.id == book_id).options(selectinload(Book.author))
    book = (await db.scalars(stmt)).unique().one_or_none()
    return book.author.name if book is not None and book.author else ""


@router.get("/own-query/{book_id}")
async def own_query(book_id: int, db: AsyncSession):
    return await author_name(db, book_id)


@router.get("/on-greenlet")
async def on_greenlet(db: AsyncSession):
    return await db.run_sync(lambda s: [author_of(b) for b in s.scalars(select(Book)).all()])
'''


@pytest.fixture
def root(app) -> Path:  # type: ignore[no-untyped-def]
    return app(ROUTES, {"models.py": MODELS, "services.py": SERVICES})


@pytest.mark.parametrize(
    ("function", "read"),
    [
        ("hybrid", "item.byline"),
        ("proxy", "item.tag_names"),
        ("subclass", "item.publisher"),
        ("direct", "item.author"),
    ],
)
def test_a_helper_reading_what_the_route_loaded_is_am314(root, findings, function, read):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"({read} (lazy load at services.py:" in found[0]["message"], found
    assert "MissingGreenlet" in found[0]["message"], found


# `own_query`: a coroutine declared to take the AsyncSession is judged on its own queries.
@pytest.mark.parametrize("function", ["eager", "books_only", "own_query", "on_greenlet"])
def test_near_miss_loaded_with_the_query_no_such_subclass_or_on_the_greenlet(root, findings, function):
    assert findings(root, function) == []


@pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited")
def test_the_premise_the_helper_raises_and_the_near_misses_run(tmp_path, monkeypatch):
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.orm import selectinload

    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    models = load_module(tmp_path, "models", MODELS)
    services = load_module(tmp_path, "services", SERVICES)

    async def run() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/premise.db")
        async with engine.begin() as conn:
            await conn.run_sync(models.Base.metadata.create_all)
        maker = async_sessionmaker(engine, expire_on_commit=False)
        async with maker() as db:
            book = models.Book(title="Earthsea", author=models.Author(name="Le Guin"), tags=[models.Tag(name="f")])
            db.add_all([book, models.Magazine(title="Locus", publisher=models.Publisher(name="L"))])
            await db.commit()
        for read in (services.byline_of, services.names_of, services.author_of):
            async with maker() as db:
                books = (await db.scalars(select(models.Book))).all()
                with pytest.raises((MissingGreenlet, StatementError)):
                    read(books[0])
        async with maker() as db:
            items = (await db.scalars(select(models.Item).options(selectinload(models.Item.author)))).all()
            with pytest.raises((MissingGreenlet, StatementError)):
                [services.item_out(i) for i in items]
        async with maker() as db:
            stmt = select(models.Book).options(selectinload(models.Book.author), selectinload(models.Book.tags))
            books = (await db.scalars(stmt)).all()
            assert [services.byline_of(b) for b in books] == ["Earthsea by Le Guin"]
            assert [services.item_out(b) for b in books] == [{"title": "Earthsea", "publisher": None}]
        await engine.dispose()

    asyncio.run(run())
