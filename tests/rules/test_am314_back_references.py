"""AM314 on a collection element's many-to-one to the class holding the collection: it is the
object holding it (in the identity map, no load) only when it is the collection's other side, as
`back_populates` or `backref` pair them, or the one relationship of its class leading there. Another
one to that class (`b.editor` beside `b.author`) is any object of it: `check` passed its lazy load."""

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
    books: Mapped[list["Book"]] = relationship(back_populates="author", foreign_keys="Book.author_id")
    notes: Mapped[list["Note"]] = relationship(backref="writer", foreign_keys="Note.author_id")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    editor_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books", foreign_keys=[author_id])
    editor: Mapped[Author] = relationship(foreign_keys=[editor_id])


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    reviewer: Mapped[Author] = relationship(foreign_keys=[reviewer_id])


class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    items: Mapped[list["Item"]] = relationship()


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int] = mapped_column(ForeignKey("shelves.id"))
    shelf: Mapped[Shelf] = relationship()
'''

ENGINE = '''
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite://")
maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
'''

ROUTES = '''
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.async_engine import get_session
from models import Author, Shelf


async def _author(db: AsyncSession, author_id: int) -> Author:
    stmt = select(Author).where(Author.id == author_id).options(selectinload(Author.books), selectinload(Author.notes))
    return (await db.scalars(stmt)).one()


@router.get("/editors/{author_id}")
async def editors(author_id: int, db: AsyncSession = Depends(get_session)):
    author = (await db.scalars(select(Author).where(Author.id == author_id).options(selectinload(Author.books)))).one()
    return [b.editor.name for b in author.books]


@router.get("/reviewers/{author_id}")
async def reviewers(author_id: int, db: AsyncSession = Depends(get_session)):
    author = (await db.scalars(select(Author).where(Author.id == author_id).options(selectinload(Author.notes)))).one()
    return [n.reviewer.name for n in author.notes]


@router.get("/authors/{author_id}")
async def authors(author_id: int, db: AsyncSession = Depends(get_session)):
    author = (await db.scalars(select(Author).where(Author.id == author_id).options(selectinload(Author.books)))).one()
    return [b.author.name for b in author.books]


@router.get("/writers/{author_id}")
async def writers(author_id: int, db: AsyncSession = Depends(get_session)):
    author = (await db.scalars(select(Author).where(Author.id == author_id).options(selectinload(Author.notes)))).one()
    return [n.writer.name for n in author.notes]


@router.get("/shelves/{shelf_id}")
async def shelves(shelf_id: int, db: AsyncSession = Depends(get_session)):
    shelf = (await db.scalars(select(Shelf).where(Shelf.id == shelf_id).options(selectinload(Shelf.items)))).one()
    return [i.shelf.id for i in shelf.items]
'''


@pytest.fixture
def root(app) -> Path:  # type: ignore[no-untyped-def]
    return app(ROUTES, {"models.py": MODELS, "db/async_engine.py": ENGINE})


@pytest.mark.parametrize(
    ("function", "read"),
    [
        ("editors", "b.editor (lazy load)"),  # a second relationship to Author: not the other side
        ("reviewers", "n.reviewer (lazy load)"),  # beside the one a backref creates
    ],
)
def test_another_relationship_to_the_holders_class_is_am314(root, findings, function, read):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert read in found[0]["message"], found


@pytest.mark.parametrize("function", ["authors", "shelves"])
def test_near_miss_the_collections_other_side_is_the_holder(root, findings, function):
    # back_populates pairs them; or neither side names the other and it is the one relationship there
    assert findings(root, function) == []


@pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited")
# Shelf.items and Item.shelf name no other side on purpose (the shape under test): SQLAlchemy warns so
@pytest.mark.filterwarnings("ignore:relationship 'Item.shelf' will copy column")
def test_the_premise_another_relationship_loads_and_the_other_side_does_not(tmp_path, monkeypatch):
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.orm import selectinload

    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    models = load_module(tmp_path, "models", MODELS)
    Author, Book, Note, Shelf, Item = models.Author, models.Book, models.Note, models.Shelf, models.Item

    async def run() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/premise.db")
        async with engine.begin() as conn:
            await conn.run_sync(models.Base.metadata.create_all)
        maker = async_sessionmaker(engine, expire_on_commit=False)
        async with maker() as db:
            author, editor = Author(name="Le Guin"), Author(name="Ed")
            db.add_all([author, editor])
            await db.flush()
            db.add_all([
                Book(title="Earthsea", author_id=author.id, editor_id=editor.id),
                Note(author_id=author.id, reviewer_id=editor.id),
                Shelf(id=1, items=[Item(id=1)]),
            ])
            await db.commit()
        loaded = select(Author).where(Author.name == "Le Guin").options(
            selectinload(Author.books), selectinload(Author.notes)
        )
        async with maker() as db:
            author = (await db.scalars(loaded)).one()
            with pytest.raises((MissingGreenlet, StatementError)):
                [b.editor.name for b in author.books]
        async with maker() as db:
            author = (await db.scalars(loaded)).one()
            with pytest.raises((MissingGreenlet, StatementError)):
                [n.reviewer.name for n in author.notes]
        async with maker() as db:
            author = (await db.scalars(loaded)).one()
            assert [b.author.name for b in author.books] == ["Le Guin"]
            assert [n.writer.name for n in author.notes] == ["Le Guin"]
        async with maker() as db:
            shelf = (await db.scalars(select(Shelf).options(selectinload(Shelf.items)))).one()
            assert [i.shelf.id for i in shelf.items] == [1]
        await engine.dispose()

    asyncio.run(run())
