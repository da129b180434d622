"""AM314 missing-greenlet on the entities of a select as the query names them: a statement name
bound in branches (each select it may be judged), an `aliased()` class (its own entity, loaded by
the options written on the alias), and loader options credited only to the entity whose path
they name (`selectinload(Book.author)` loads nothing of a Review in the same select). Each of
these was an all-clear `check` gave while the read lazy-loaded."""

from __future__ import annotations

import pytest

MODELS = """
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


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship()
"""

BRANCHED = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Author, Book


@router.get("/rows")
async def rows(flag: bool, db: AsyncSession):
    if flag:
        stmt = select(Book, Author).join(Book.author)
    else:
        stmt = select(Book, Author).join(Book.author).where(Book.id == 1)
    result = await db.execute(stmt)
    out = []
    for row in result:
        out.append(row.Book.author.name)
    return out


@router.get("/scalars")
async def scalars(flag: bool, db: AsyncSession):
    if flag:
        stmt = select(Book, Author)
    else:
        stmt = select(Book, Author).where(Book.id == 1)
    return [b.author.name for b in (await db.scalars(stmt)).all()]


@router.get("/one_entity_rows")
async def one_entity_rows(flag: bool, db: AsyncSession):
    if flag:
        stmt = select(Book)
    else:
        stmt = select(Book).where(Book.id == 1)
    result = await db.execute(stmt)
    return [row.Book.author.name for row in result]


@router.get("/streamed")
async def streamed(flag: bool, db: AsyncSession):
    if flag:
        stmt = select(Book, Author)
    else:
        stmt = select(Book, Author).where(Book.id == 1)
    out = []
    async for book, author in await db.stream(stmt):
        out.append(len(author.books))
    return out


@router.get("/one_branch_eager")
async def one_branch_eager(flag: bool, db: AsyncSession):
    if flag:
        stmt = select(Book, Author).options(selectinload(Book.author))
    else:
        stmt = select(Book, Author).where(Book.id == 1)
    result = await db.execute(stmt)
    return [row.Book.author.name for row in result]


@router.get("/options_in_a_branch")
async def options_in_a_branch(flag: bool, db: AsyncSession):
    stmt = select(Book, Author)
    if flag:
        stmt = stmt.options(selectinload(Book.author))
    result = await db.execute(stmt)
    return [row.Book.author.name for row in result]


@router.get("/both_eager")
async def both_eager(flag: bool, db: AsyncSession):
    if flag:
        stmt = select(Book, Author).options(selectinload(Book.author))
    else:
        stmt = select(Book, Author).where(Book.id == 1).options(selectinload(Book.author))
    result = await db.execute(stmt)
    return [row.Book.author.name for row in result]


@router.get("/options_after")
async def options_after(flag: bool, db: AsyncSession):
    if flag:
        stmt = select(Book, Author)
    else:
        stmt = select(Book, Author).where(Book.id == 1)
    stmt = stmt.options(selectinload(Book.author))
    return [b.author.name for b in (await db.scalars(stmt)).all()]


@router.get("/bound_again")
async def bound_again(db: AsyncSession):
    stmt = select(Book, Author).options(selectinload(Book.author))
    result = await db.execute(stmt)
    names = [first.Book.author.name for first in result]
    stmt = select(Book, Author).where(Book.id == 1)
    result = await db.execute(stmt)
    return names + [row.Book.title for row in result]


@router.get("/bound_again_lazy")
async def bound_again_lazy(db: AsyncSession):
    stmt = select(Book, Author)
    result = await db.execute(stmt)
    titles = [first.Book.title for first in result]
    stmt = select(Book, Author).where(Book.id == 1)
    stmt = stmt.options(selectinload(Author.books))
    result = await db.execute(stmt)
    return titles + [row.Book.author.name for row in result]


@router.get("/branched_column")
async def branched_column(flag: bool, db: AsyncSession):
    if flag:
        stmt = select(Book, Author)
    else:
        stmt = select(Book, Author).where(Book.id == 1)
    result = await db.execute(stmt)
    return [row.Book.title for row in result]
"""


@pytest.mark.parametrize(("function", "read", "query"), [
    ("rows", "row.Book.author", "its Book from the queries at lines 18, 20"),
    ("scalars", "b.author", "its Book from the queries at lines 31, 33"),
    ("one_entity_rows", "row.Book.author", "its Book from the queries at lines 40, 42"),
    ("streamed", "author.books", "its Author from the queries at lines 50, 52"),
    ("one_branch_eager", "row.Book.author", "its Book from the query at line 64"),
    ("options_in_a_branch", "row.Book.author", "its Book from the query at line 71"),
    ("bound_again_lazy", "row.Book.author", "its Book from the query at line 113"),
])
def test_a_statement_bound_in_branches_is_judged_by_each_select_it_may_be(app, findings, function, read, query):
    found = findings(app(BRANCHED, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} (lazy load), {query}" in found[0]["message"], found


@pytest.mark.parametrize("function", ["both_eager", "options_after", "bound_again", "branched_column"])
def test_near_miss_every_select_the_statement_may_be_loads_it(app, findings, function):
    assert findings(app(BRANCHED, {"models.py": MODELS}), function) == []


HELD = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Author, Book


class Shelf:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def last_eager(self, flag: bool):
        if flag:
            stmt = select(Book)
        else:
            stmt = select(Book).options(selectinload(Book.author))
        return [b.author.name for b in (await self.db.scalars(stmt)).all()]

    async def rows_last_eager(self, flag: bool):
        if flag:
            stmt = select(Book, Author)
        else:
            stmt = select(Book, Author).options(selectinload(Book.author))
        result = await self.db.execute(stmt)
        return [row.Book.author.name for row in result]

    async def both_eager(self, flag: bool):
        if flag:
            stmt = select(Book, Author).options(selectinload(Book.author))
        else:
            stmt = select(Book, Author).where(Book.id == 1).options(selectinload(Book.author))
        result = await self.db.execute(stmt)
        return [row.Book.author.name for row in result]


@router.get("/last_eager")
async def last_eager(flag: bool, db: AsyncSession):
    return await Shelf(db).last_eager(flag)


@router.get("/rows_last_eager")
async def rows_last_eager(flag: bool, db: AsyncSession):
    return await Shelf(db).rows_last_eager(flag)


@router.get("/both_eager")
async def both_eager(flag: bool, db: AsyncSession):
    return await Shelf(db).both_eager(flag)
"""


@pytest.mark.parametrize(("function", "read"), [("last_eager", "b.author"), ("rows_last_eager", "row.Book.author")])
def test_on_a_held_async_session_each_select_is_kept_not_the_last_only(app, findings, function, read):
    found = findings(app(HELD, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} (lazy load at " in found[0]["message"], found
    assert f"in api.items.Shelf.{function}), its Book from the query at line " in found[0]["message"], found


def test_near_miss_on_a_held_async_session_every_select_loads_it(app, findings):
    assert findings(app(HELD, {"models.py": MODELS}), "both_eager") == []


ALIASED = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from models import Author, Book

EARLIER = aliased(Book)


@router.get("/module_alias")
async def module_alias(db: AsyncSession):
    return [x.author.name for x in (await db.scalars(select(EARLIER))).all()]


@router.get("/module_alias_option")
async def module_alias_option(db: AsyncSession):
    return [x.author.name for x in (await db.scalars(select(EARLIER).options(selectinload(EARLIER.author)))).all()]


@router.get("/scalars")
async def scalars(db: AsyncSession):
    b = aliased(Book)
    result = await db.scalars(select(b))
    return [x.author.name for x in result.all()]


@router.get("/indexed")
async def indexed(db: AsyncSession):
    b = aliased(Book)
    result = await db.execute(select(b, Author).join(b.author))
    return [row[0].author.name for row in result]


@router.get("/named")
async def named(db: AsyncSession):
    b = aliased(Book, name="older")
    result = await db.execute(select(b, Author).join(b.author))
    return [row.older.author.name for row in result]


@router.get("/class_option")
async def class_option(db: AsyncSession):
    b = aliased(Book)
    result = await db.execute(select(b, Book).options(selectinload(Book.author)))
    return [row[0].author.name for row in result]


@router.get("/alias_option")
async def alias_option(db: AsyncSession):
    b = aliased(Book)
    result = await db.scalars(select(b).options(selectinload(b.author)))
    return [x.author.name for x in result.all()]


@router.get("/alias_column")
async def alias_column(db: AsyncSession):
    b = aliased(Book, name="older")
    result = await db.execute(select(b, Author).join(b.author))
    return [(row.older.title, row[0].title) for row in result]
"""


@pytest.mark.parametrize(("function", "read"), [
    ("scalars", "x.author"), ("indexed", "row[0].author"), ("named", "row.older.author"),
    ("class_option", "row[0].author"),
])
def test_an_aliased_class_is_its_entity_and_loads_by_the_options_on_the_alias(app, findings, function, read):
    found = findings(app(ALIASED, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} (lazy load), its b (aliased Book) from the query at line " in found[0]["message"], found


def test_a_module_level_alias_is_its_class_too(app, findings):
    root = app(ALIASED, {"models.py": MODELS})
    found = findings(root, "module_alias")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "x.author (lazy load), its EARLIER (aliased Book) from the query at line " in found[0]["message"], found
    assert findings(root, "module_alias_option") == []


@pytest.mark.parametrize("function", ["alias_option", "alias_column"])
def test_near_miss_the_alias_eager_loads_it_or_a_column_is_read(app, findings, function):
    assert findings(app(ALIASED, {"models.py": MODELS}), function) == []


OPTIONS = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Load, defaultload, joinedload, lazyload, raiseload, selectinload

from models import Author, Book, Review


@router.get("/other_entity")
async def other_entity(db: AsyncSession):
    result = await db.execute(select(Review, Book).options(selectinload(Book.author)))
    return [row.Review.author.name for row in result]


@router.get("/bound_wildcard")
async def bound_wildcard(db: AsyncSession):
    result = await db.execute(select(Review, Book).options(Load(Book).selectinload("*")))
    return [row.Review.author.name for row in result]


@router.get("/bound_load")
async def bound_load(db: AsyncSession):
    result = await db.execute(select(Review, Book).options(Load(Book).joinedload(Book.author)))
    return [review.author.name for review, book in result]


@router.get("/raised")
async def raised(db: AsyncSession):
    return [b.author.name for b in (await db.scalars(select(Book).options(raiseload(Book.author)))).all()]


@router.get("/wildcard_overridden")
async def wildcard_overridden(db: AsyncSession):
    stmt = select(Book).options(selectinload("*"), lazyload(Book.author))
    return [b.author.name for b in (await db.scalars(stmt)).all()]


@router.get("/along_unloaded")
async def along_unloaded(db: AsyncSession):
    books = (await db.scalars(select(Book).options(selectinload(Book.author)))).all()
    return [[other.title for other in b.author.books] for b in books]


@router.get("/along_lazy")
async def along_lazy(db: AsyncSession):
    stmt = select(Book).options(selectinload("*"), selectinload(Book.author).lazyload(Author.books))
    return [len(b.author.books) for b in (await db.scalars(stmt)).all()]


@router.get("/along_loaded")
async def along_loaded(db: AsyncSession):
    stmt = select(Book).options(selectinload(Book.author).selectinload(Author.books))
    return [len(b.author.books) for b in (await db.scalars(stmt)).all()]


@router.get("/along_default")
async def along_default(db: AsyncSession):
    result = await db.execute(select(Review).options(joinedload(Review.author), defaultload(Review.author).selectinload(Author.books)))
    return [len(row.Review.author.books) for row in result]


@router.get("/own_entity")
async def own_entity(db: AsyncSession):
    result = await db.execute(select(Review, Book).options(selectinload(Review.author)))
    return [row.Review.author.name for row in result]


@router.get("/wildcard")
async def wildcard(db: AsyncSession):
    result = await db.execute(select(Review, Book).options(selectinload("*")))
    return [row.Review.author.name for row in result]


@router.get("/bound_own")
async def bound_own(db: AsyncSession):
    result = await db.execute(select(Review, Book).options(Load(Review).joinedload(Review.author)))
    return [review.author.name for review, book in result]


@router.get("/raise_all_but")
async def raise_all_but(db: AsyncSession):
    stmt = select(Book).options(raiseload("*"), joinedload(Book.author).selectinload(Author.books))
    return [b.author.name for b in (await db.scalars(stmt)).all()]
"""


@pytest.mark.parametrize(("function", "read", "entity"), [
    ("other_entity", "row.Review.author", "Review"), ("bound_wildcard", "row.Review.author", "Review"),
    ("bound_load", "review.author", "Review"), ("raised", "b.author", "Book"),
    ("wildcard_overridden", "b.author", "Book"),
])
def test_an_option_loads_only_what_it_names_on_the_entity_it_names(app, findings, function, read, entity):
    found = findings(app(OPTIONS, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"{read} (lazy load), its {entity} from the query at line " in found[0]["message"], found


@pytest.mark.parametrize(("function", "read"), [
    ("along_unloaded", "b.author.books (lazy load), its Author through author of the Book from the query at line "),
    ("along_lazy", "b.author.books (lazy load), its Author through author of the Book from the query at line "),
])
def test_a_relationship_of_a_related_object_loads_only_by_an_option_along_that_path(app, findings, function, read):
    found = findings(app(OPTIONS, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert read in found[0]["message"] and "which does not load it along that path" in found[0]["message"], found


@pytest.mark.parametrize(
    "function", ["own_entity", "wildcard", "bound_own", "raise_all_but", "along_loaded", "along_default"]
)
def test_near_miss_the_option_names_the_entity_read_or_every_entity(app, findings, function):
    assert findings(app(OPTIONS, {"models.py": MODELS}), function) == []
