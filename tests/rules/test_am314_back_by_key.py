"""AM314 on a collection element's many-to-one back to the class holding the collection, where
the two sides do not join on the holder's primary key by one foreign key. SQLAlchemy fills no
other side when it loads a collection: `b.author` for `b in author.books` costs no query only
because the lazy loader finds the author in the identity map by key, which it does only for a
many-to-one joining its foreign key on the target's primary key, and the author is `author` only
when both sides use the same foreign key. Else the read is a query: MissingGreenlet (the premise
test runs each read on aiosqlite)."""

from __future__ import annotations

import asyncio
import sys

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
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    edited: Mapped[list["Book"]] = relationship(foreign_keys="Book.editor_id")
    joined: Mapped[list["Essay"]] = relationship(back_populates="author")
    coded: Mapped[list["Poem"]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    editor_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(foreign_keys=[author_id])


class Essay(Base):
    __tablename__ = "essays"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(
        back_populates="joined", primaryjoin="and_(Essay.author_id == Author.id, Author.name != '')"
    )


class Poem(Base):
    __tablename__ = "poems"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_code: Mapped[str] = mapped_column(ForeignKey("authors.code"))
    author: Mapped[Author] = relationship(back_populates="coded")


class Node(Base):
    __tablename__ = "nodes"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id"))
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id"))
    children: Mapped[list["Node"]] = relationship(foreign_keys=[parent_id])
    mentor: Mapped["Node | None"] = relationship(foreign_keys=[mentor_id], remote_side=[id])


class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    children: Mapped[list["Category"]] = relationship()
    parent: Mapped["Category | None"] = relationship(remote_side=[id])
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

# each route's read, as the premise runs it: (route, the query's entity and collection, the read)
READS = {
    "edits": ("Author", "edited", "[b.author.name for b in loaded.edited]"),
    "essays": ("Author", "joined", "[e.author.name for e in loaded.joined]"),
    "poems": ("Author", "coded", "[p.author.name for p in loaded.coded]"),
    "mentors": ("Node", "children", "[c.mentor.id for c in loaded.children]"),
    "parents": ("Category", "children", "[c.parent.id for c in loaded.children]"),
}
ROUTES = "\n".join(f'''
@router.get("/{route}/{{key}}")
async def {route}(key: int, db: AsyncSession = Depends(get_session)):
    loaded = (await db.scalars(select({entity}).where({entity}.id == key).options(selectinload({entity}.{collection})))).one()
    return {read}
''' for route, (entity, collection, read) in READS.items())
HEAD = '''
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.async_engine import get_session
from models import Author, Category, Node
'''


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    return app(HEAD + ROUTES, {"models.py": MODELS, "db/async_engine.py": ENGINE})


@pytest.mark.parametrize(
    ("function", "read"),
    [
        ("edits", "b.author (lazy load)"),  # unpaired, over another foreign key than the collection's
        ("essays", "e.author (lazy load)"),  # paired, but its own primaryjoin: no lookup by key
        ("poems", "p.author (lazy load)"),  # paired, its foreign key names a column that is no primary key
        ("mentors", "c.mentor (lazy load)"),  # self-referential, unpaired, another foreign key
    ],
)
def test_a_back_reference_not_joined_on_the_holders_key_is_am314(root, findings, function, read):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert read in found[0]["message"], found


def test_near_miss_a_self_referential_pair_on_one_foreign_key_is_the_holder(root, findings):
    assert findings(root, "parents") == []


@pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited")
@pytest.mark.filterwarnings("ignore:relationship '.*' will copy column")
def test_the_premise_only_the_lookup_by_key_reads_no_row(tmp_path, monkeypatch):
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.orm import selectinload

    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    models = load_module(tmp_path, "models", MODELS)

    async def run() -> dict[str, object]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/premise.db")
        async with engine.begin() as conn:
            await conn.run_sync(models.Base.metadata.create_all)
        maker = async_sessionmaker(engine, expire_on_commit=False)
        async with maker() as db:
            db.add_all([models.Author(id=1, code="a", name="Ann"), models.Author(id=2, code="e", name="Ed")])
            db.add_all([models.Book(id=1, author_id=1, editor_id=2), models.Essay(id=1, author_id=2),
                        models.Poem(id=1, author_code="e"), models.Node(id=1), models.Node(id=3),
                        models.Node(id=2, parent_id=1, mentor_id=3), models.Category(id=1),
                        models.Category(id=2, parent_id=1)])
            await db.commit()
        outcomes: dict[str, object] = {}
        for route, (entity, collection, read) in READS.items():
            cls = getattr(models, entity)
            key = 2 if entity == "Author" else 1
            async with maker() as db:
                stmt = select(cls).where(cls.id == key).options(selectinload(getattr(cls, collection)))
                loaded = (await db.scalars(stmt)).one()
                try:
                    outcomes[route] = eval(read, {"loaded": loaded})
                except (MissingGreenlet, StatementError) as error:
                    outcomes[route] = type(getattr(error, "orig", None) or error).__name__
        await engine.dispose()
        return outcomes

    assert asyncio.run(run()) == {
        "edits": "MissingGreenlet", "essays": "MissingGreenlet", "poems": "MissingGreenlet",
        "mentors": "MissingGreenlet", "parents": [1],
    }
