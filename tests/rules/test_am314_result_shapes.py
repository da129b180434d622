"""AM314 missing-greenlet through the other shapes an AsyncSession hands its objects in: a
streamed result iterated asynchronously (`await db.stream(stmt)`, `await db.stream_scalars(stmt)`),
the rows of an executed select (`result.first().Book`, `for (book,) in result`), and a Result
local bound to two queries. `check` said nothing of their lazy loads."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS

STREAMED = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


@router.get("/streamed")
async def streamed(db: AsyncSession):
    result = await db.stream_scalars(select(Book))
    out = []
    async for book in result:
        out.append(book.author.name)
    return out


@router.get("/streamed_inline")
async def streamed_inline(db: AsyncSession):
    return [book.author.name async for book in await db.stream_scalars(select(Book))]


@router.get("/stream_scalars")
async def stream_scalars(db: AsyncSession):
    result = await db.stream(select(Book))
    out = []
    async for book in result.scalars():
        out.append(book.author.name)
    return out


@router.get("/stream_rows")
async def stream_rows(db: AsyncSession):
    out = []
    async for row in await db.stream(select(Book)):
        out.append(row.Book.author.name)
    return out


@router.get("/stream_unpacked")
async def stream_unpacked(db: AsyncSession):
    out = []
    async for (book,) in await db.stream(select(Book)):
        out.append(book.author.name)
    return out


@router.get("/stream_all")
async def stream_all(db: AsyncSession):
    result = await db.stream_scalars(select(Book))
    return [b.author.name for b in await result.all()]


@router.get("/streamed_eager")
async def streamed_eager(db: AsyncSession):
    result = await db.stream_scalars(select(Book).options(selectinload(Book.author)))
    out = []
    async for book in result:
        out.append(book.author.name)
    return out


@router.get("/stream_rows_eager")
async def stream_rows_eager(db: AsyncSession):
    out = []
    async for row in await db.stream(select(Book).options(selectinload(Book.author))):
        out.append(row.Book.author.name)
    return out


@router.get("/streamed_column")
async def streamed_column(db: AsyncSession):
    out = []
    async for book in await db.stream_scalars(select(Book)):
        out.append(book.title)
    return out
"""


@pytest.mark.parametrize(("function", "read"), [
    ("streamed", "book.author"), ("streamed_inline", "book.author"), ("stream_scalars", "book.author"),
    ("stream_rows", "row.Book.author"), ("stream_unpacked", "book.author"), ("stream_all", "b.author"),
])
def test_a_lazy_load_on_a_streamed_object_is_am314(app, findings, function, read):
    found = findings(app(STREAMED, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} (lazy load)" in found[0]["message"], found


@pytest.mark.parametrize("function", ["streamed_eager", "stream_rows_eager", "streamed_column"])
def test_near_miss_a_streamed_object_eager_loaded_or_a_column_is_no_finding(app, findings, function):
    assert findings(app(STREAMED, {"models.py": MODELS}), function) == []


ROWS = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from models import Book


@router.get("/first_row")
async def first_row(db: AsyncSession):
    result = await db.execute(select(Book))
    row = result.first()
    return {"author": row.Book.author.name}


@router.get("/one_indexed")
async def one_indexed(db: AsyncSession):
    result = await db.execute(select(Book).where(Book.id == 1))
    return {"author": result.one()[0].author.name}


@router.get("/unpacked")
async def unpacked(db: AsyncSession):
    result = await db.execute(select(Book))
    out = []
    for (book,) in result:
        out.append(book.author.name)
    return out


@router.get("/looped_rows")
async def looped_rows(db: AsyncSession):
    result = await db.execute(select(Book))
    return [row.Book.author.name for row in result]


@router.get("/all_indexed")
async def all_indexed(db: AsyncSession):
    result = await db.execute(select(Book))
    return {"author": result.all()[0][0].author.name}


@router.get("/all_unpacked")
async def all_unpacked(db: AsyncSession):
    result = await db.execute(select(Book))
    rows = result.all()
    out = []
    for (book,) in rows:
        out.append(book.author.name)
    return out


@router.get("/inline_first")
async def inline_first(db: AsyncSession):
    row = (await db.execute(select(Book))).first()
    return {"author": row[0].author.name}


@router.get("/rows_eager")
async def rows_eager(db: AsyncSession):
    result = await db.execute(select(Book).options(joinedload(Book.author)))
    return [row.Book.author.name for row in result]


@router.get("/unpacked_eager")
async def unpacked_eager(db: AsyncSession):
    result = await db.execute(select(Book).options(selectinload(Book.author)))
    out = []
    for (book,) in result.all():
        out.append(book.author.name)
    return out


@router.get("/row_column")
async def row_column(db: AsyncSession):
    result = await db.execute(select(Book))
    return [row.Book.title for row in result]
"""


@pytest.mark.parametrize(("function", "read"), [
    ("first_row", "row.Book.author"), ("one_indexed", ".author"), ("unpacked", "book.author"),
    ("looped_rows", "row.Book.author"), ("all_indexed", ".author"), ("all_unpacked", "book.author"),
    ("inline_first", "row[0].author"),
])
def test_a_lazy_load_on_the_entity_of_an_executed_row_is_am314(app, findings, function, read):
    found = findings(app(ROWS, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} (lazy load)" in found[0]["message"], found


@pytest.mark.parametrize("function", ["rows_eager", "unpacked_eager", "row_column"])
def test_near_miss_a_row_entity_eager_loaded_or_a_column_is_no_finding(app, findings, function):
    assert findings(app(ROWS, {"models.py": MODELS}), function) == []


REBOUND = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


@router.get("/rebound")
async def rebound(db: AsyncSession):
    result = await db.execute(select(Book).options(selectinload(Book.author)))
    first = result.scalars().first()
    result = await db.execute(select(Book).where(Book.id == 2))
    book = result.scalars().first()
    return {"first": first.title, "author": book.author.name}


@router.get("/rebound_rows")
async def rebound_rows(db: AsyncSession):
    result = await db.execute(select(Book).options(selectinload(Book.author)))
    names = [row.Book.author.name for row in result]
    result = await db.execute(select(Book))
    return names + [row.Book.author.name for row in result]


@router.get("/branched")
async def branched(flag: bool, db: AsyncSession):
    if flag:
        result = await db.scalars(select(Book).options(selectinload(Book.author)))
    else:
        result = await db.scalars(select(Book))
    return [b.author.name for b in result.all()]


@router.get("/rebound_eager_first")
async def rebound_eager_first(db: AsyncSession):
    result = await db.execute(select(Book).options(selectinload(Book.author)))
    first = result.scalars().first()
    names = [first.author.name]
    result = await db.execute(select(Book).where(Book.id == 2))
    return names + [result.scalars().first().title]


@router.get("/rebound_both_eager")
async def rebound_both_eager(db: AsyncSession):
    result = await db.execute(select(Book).options(selectinload(Book.author)))
    first = result.scalars().first()
    result = await db.execute(select(Book).where(Book.id == 2).options(selectinload(Book.author)))
    return [first.author.name, result.scalars().first().author.name]
"""


@pytest.mark.parametrize(("function", "read"), [
    ("rebound", "book.author"), ("rebound_rows", "row.Book.author"), ("branched", "b.author"),
])
def test_a_result_bound_again_is_judged_by_each_query_reaching_the_read(app, findings, function, read):
    found = findings(app(REBOUND, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} (lazy load)" in found[0]["message"], found


@pytest.mark.parametrize("function", ["rebound_eager_first", "rebound_both_eager"])
def test_near_miss_every_query_reaching_the_read_eager_loads_it(app, findings, function):
    assert findings(app(REBOUND, {"models.py": MODELS}), function) == []


QUIET = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


@router.get("/refreshed")
async def refreshed(db: AsyncSession):
    first = await db.get(Book, 1, options=[selectinload(Book.author)])
    book = await db.get(Book, 2)
    await db.refresh(book, attribute_names=["author"])
    return {"a": first.author.name, "b": book.author.name}


@router.get("/awaitable")
async def awaitable(db: AsyncSession):
    first = await db.get(Book, 1, options=[selectinload(Book.author)])
    book = await db.get(Book, 2)
    return {"a": first.author.name, "b": (await book.awaitable_attrs.author).name}


@router.get("/statement_options")
async def statement_options(flag: bool, db: AsyncSession):
    stmt = select(Book)
    stmt = stmt.options(selectinload(Book.author))
    result = await db.execute(stmt)
    return [row.Book.author.name for row in result]
"""


@pytest.mark.parametrize("function", ["refreshed", "awaitable", "statement_options"])
def test_near_miss_loaded_another_way_or_on_the_greenlet_is_no_finding(app, findings, function):
    assert findings(app(QUIET, {"models.py": MODELS}), function) == []


# The same shapes in a repository method on the AsyncSession its instance holds (`self.db`).
HELD_SHAPES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


class BookRepo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def first_row(self):
        result = await self.db.execute(select(Book))
        return result.first().Book.author.name

    async def looped_rows(self):
        result = await self.db.execute(select(Book))
        return [row.Book.author.name for row in result]

    async def listed(self):
        out = []
        for b in (await self.db.scalars(select(Book))).all():
            out.append(b.author.name)
        return out

    async def rebound(self):
        result = await self.db.execute(select(Book).options(selectinload(Book.author)))
        first = result.scalars().first()
        result = await self.db.execute(select(Book).where(Book.id == 2))
        book = result.scalars().first()
        return [first.title, book.author.name]

    async def rows_eager(self):
        result = await self.db.execute(select(Book).options(selectinload(Book.author)))
        return [row.Book.author.name for row in result]

    async def rebound_both_eager(self):
        result = await self.db.execute(select(Book).options(selectinload(Book.author)))
        first = result.scalars().first()
        result = await self.db.execute(select(Book).where(Book.id == 2).options(selectinload(Book.author)))
        return [first.author.name, result.scalars().first().author.name]

    async def row_column(self):
        result = await self.db.execute(select(Book))
        return [row.Book.title for row in result]

    async def refreshed(self):
        book = (await self.db.scalars(select(Book))).first()
        await self.db.refresh(book, attribute_names=["author"])
        return book.author.name

    async def awaitable(self):
        book = (await self.db.scalars(select(Book))).first()
        return (await book.awaitable_attrs.author).name


@router.get("/first_row")
async def first_row(db: AsyncSession):
    return await BookRepo(db).first_row()


@router.get("/looped_rows")
async def looped_rows(db: AsyncSession):
    return await BookRepo(db).looped_rows()


@router.get("/listed")
async def listed(db: AsyncSession):
    return await BookRepo(db).listed()


@router.get("/rebound")
async def rebound(db: AsyncSession):
    return await BookRepo(db).rebound()


@router.get("/rows_eager")
async def rows_eager(db: AsyncSession):
    return await BookRepo(db).rows_eager()


@router.get("/rebound_both_eager")
async def rebound_both_eager(db: AsyncSession):
    return await BookRepo(db).rebound_both_eager()


@router.get("/row_column")
async def row_column(db: AsyncSession):
    return await BookRepo(db).row_column()


@router.get("/refreshed")
async def refreshed(db: AsyncSession):
    return await BookRepo(db).refreshed()


@router.get("/awaitable")
async def awaitable(db: AsyncSession):
    return await BookRepo(db).awaitable()
"""


@pytest.mark.parametrize(("function", "read"), [
    ("first_row", "result.first().Book.author"), ("looped_rows", "row.Book.author"), ("listed", "b.author"),
    ("rebound", "book.author"),
])
def test_rows_and_a_result_bound_again_on_a_held_async_session_are_am314(app, findings, function, read):
    found = findings(app(HELD_SHAPES, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} (lazy load at " in found[0]["message"], found
    assert f"in api.items.BookRepo.{function})" in found[0]["message"], found


@pytest.mark.parametrize("function", ["rows_eager", "rebound_both_eager", "row_column", "refreshed", "awaitable"])
def test_near_miss_the_held_session_query_loads_it_or_a_column_is_no_finding(app, findings, function):
    assert findings(app(HELD_SHAPES, {"models.py": MODELS}), function) == []


# Rows of a select of several entities: each column judged as the entity the select names there.
ENTITY_MODELS = """
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
    reviews: Mapped[list["Review"]] = relationship()


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
"""

ENTITIES = """
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Author, Book


@router.get("/named")
async def named(db: AsyncSession):
    result = await db.execute(select(Book, Author).join(Book.author))
    return [len(row.Book.reviews) for row in result]


@router.get("/indexed")
async def indexed(db: AsyncSession):
    result = await db.execute(select(Book, Author).join(Book.author))
    row = result.first()
    return len(row[1].books)


@router.get("/unpacked")
async def unpacked(db: AsyncSession):
    result = await db.execute(select(Book, Author).join(Book.author))
    out = []
    for book, author in result:
        out.append(len(author.books))
    return out


@router.get("/mappings")
async def mappings(db: AsyncSession):
    result = await db.execute(select(Book, Author).join(Book.author))
    return [len(m["Author"].books) for m in result.mappings()]


@router.get("/mapping_of_row")
async def mapping_of_row(db: AsyncSession):
    result = await db.execute(select(Book, Author).join(Book.author))
    return [len(row._mapping["Book"].reviews) for row in result.all()]


@router.get("/stmt_bound")
async def stmt_bound(db: AsyncSession):
    stmt = select(func.count(Book.id), Author).join(Author.books).group_by(Author.id)
    result = await db.execute(stmt)
    return [len(author.books) for n, author in result]


@router.get("/scalars_first_column")
async def scalars_first_column(db: AsyncSession):
    result = await db.execute(select(Book, Author).join(Book.author))
    return [len(b.reviews) for b in result.scalars().all()]


@router.get("/scalars_of_several")
async def scalars_of_several(db: AsyncSession):
    return [len(b.reviews) for b in (await db.scalars(select(Book, Author).join(Book.author))).all()]


@router.get("/named_eager")
async def named_eager(db: AsyncSession):
    result = await db.execute(select(Book, Author).join(Book.author).options(selectinload(Book.reviews)))
    return [len(row.Book.reviews) for row in result]


@router.get("/unpacked_eager")
async def unpacked_eager(db: AsyncSession):
    result = await db.execute(select(Book, Author).join(Book.author).options(selectinload(Author.books)))
    return [len(author.books) for book, author in result]


@router.get("/columns")
async def columns(db: AsyncSession):
    result = await db.execute(select(Book, Author).join(Book.author))
    return [(row.Book.title, row[1].name, m["Author"].name) for row in result for m in [row._mapping]]


@router.get("/counted")
async def counted(db: AsyncSession):
    result = await db.execute(select(func.count(Book.id), Author.name).group_by(Author.name))
    return [(n, name) for n, name in result]
"""


HELD_ENTITIES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Author, Book


class Shelf:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def held(self):
        result = await self.db.execute(select(Book, Author).join(Book.author))
        return [len(author.books) for book, author in result]

    async def held_eager(self):
        result = await self.db.execute(select(Book, Author).join(Book.author).options(selectinload(Author.books)))
        return [len(row.Author.books) for row in result]


@router.get("/held")
async def held(db: AsyncSession):
    return await Shelf(db).held()


@router.get("/held_eager")
async def held_eager(db: AsyncSession):
    return await Shelf(db).held_eager()
"""


def test_an_entity_past_the_first_column_on_a_held_async_session_is_am314(app, findings):
    root = app(HELD_ENTITIES, {"models.py": ENTITY_MODELS})
    found = findings(root, "held")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "author.books (lazy load at " in found[0]["message"], found
    assert findings(root, "held_eager") == []


@pytest.mark.parametrize(("function", "read"), [
    ("named", "row.Book.reviews"), ("indexed", "row[1].books"), ("unpacked", "author.books"),
    ("mappings", "m['Author'].books"), ("mapping_of_row", "row._mapping['Book'].reviews"),
    ("stmt_bound", "author.books"), ("scalars_first_column", "b.reviews"), ("scalars_of_several", "b.reviews"),
])
def test_a_lazy_load_on_an_entity_of_a_several_entity_row_is_am314(app, findings, function, read):
    found = findings(app(ENTITIES, {"models.py": ENTITY_MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} (lazy load)" in found[0]["message"], found


@pytest.mark.parametrize("function", ["named_eager", "unpacked_eager", "columns", "counted"])
def test_near_miss_the_entity_eager_loaded_or_a_column_of_a_several_entity_row(app, findings, function):
    assert findings(app(ENTITIES, {"models.py": ENTITY_MODELS}), function) == []


# Reads in the callable handed to `run_sync` run in the greenlet, where a lazy load works.
RUN_SYNC = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Book


def author_name(sync_session, book):
    return book.author.name


@router.get("/lambda")
async def in_lambda(db: AsyncSession):
    book = await db.get(Book, 1)
    return await db.run_sync(lambda s: book.author.name)


@router.get("/nested")
async def nested(db: AsyncSession):
    book = (await db.scalars(select(Book))).first()

    def load_author(sync_session):
        return book.author.name

    return await db.run_sync(load_author)


@router.get("/module_level")
async def module_level(db: AsyncSession):
    book = await db.get(Book, 1)
    return await db.run_sync(author_name, book)


@router.get("/connection")
async def connection(db: AsyncSession):
    result = await db.execute(select(Book))
    row = result.first()
    conn = await db.connection()
    return await conn.run_sync(lambda c: row.Book.author.name)


@router.get("/other_lambda")
async def other_lambda(db: AsyncSession):
    book = await db.get(Book, 1)
    name = (lambda: book.author.name)()
    return await db.run_sync(lambda s: name)


@router.get("/nested_called")
async def nested_called(db: AsyncSession):
    book = await db.get(Book, 1)

    def load_author(sync_session):
        return book.author.name

    await db.run_sync(load_author)
    return load_author(None)
"""


@pytest.mark.parametrize("function", ["in_lambda", "nested", "module_level", "connection"])
def test_near_miss_a_read_in_the_callable_run_sync_runs_is_no_finding(app, findings, function):
    found = findings(app(RUN_SYNC, {"models.py": MODELS}), function)
    assert found == [], [f["message"] for f in found]


@pytest.mark.parametrize("function", ["other_lambda", "nested_called"])
def test_a_read_in_a_callable_run_outside_run_sync_is_still_am314(app, findings, function):
    found = findings(app(RUN_SYNC, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "book.author (lazy load)" in found[0]["message"], found


# A plain local bound to two queries: each read judged by the binding that reaches it.
LOCAL_REBOUND = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


@router.get("/eager_then_lazy")
async def eager_then_lazy(db: AsyncSession):
    book = await db.get(Book, 1, options=[selectinload(Book.author)])
    first = book.author.name
    book = await db.get(Book, 2)
    return {"first": first, "second": book.author.name}


@router.get("/lazy_then_eager")
async def lazy_then_eager(db: AsyncSession):
    book = await db.get(Book, 1)
    title = book.title
    book = (await db.scalars(select(Book).options(selectinload(Book.author)))).first()
    return {"title": title, "author": book.author.name}


@router.get("/read_in_its_own_binding")
async def read_in_its_own_binding(db: AsyncSession):
    book = await db.get(Book, 1)
    book = await db.get(Book, book.author.id, options=[selectinload(Book.author)])
    return {"author": book.author.name}


@router.get("/branch")
async def branch(flag: bool, db: AsyncSession):
    book = await db.get(Book, 1, options=[selectinload(Book.author)])
    if flag:
        book = await db.get(Book, 2)
    return {"author": book.author.name}
"""


@pytest.mark.parametrize("function", ["eager_then_lazy", "read_in_its_own_binding", "branch"])
def test_a_local_bound_twice_is_reported_at_the_reads_a_lazy_binding_reaches(app, findings, function):
    found = findings(app(LOCAL_REBOUND, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert found[0]["message"].count("book.author (lazy load)") == 1, found


def test_near_miss_a_local_bound_again_to_an_eager_query_before_the_read(app, findings):
    assert findings(app(LOCAL_REBOUND, {"models.py": MODELS}), "lazy_then_eager") == []
