"""AM314 missing-greenlet: the synchronous Session behind an AsyncSession (`db.sync_session`)
queried outside `run_sync` raises MissingGreenlet; handed to code that only adds objects it is
fine. Before, `check` called both "unverified" (AM304, "annotate the dependency's return type",
which it was) and a mixed session (AM302). A relationship an already-async route lazy-loads
raises the same, and `check` said nothing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import MissingGreenlet, StatementError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from test_phase2_rules import MODELS, SCHEMAS

ROUTES = """
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from models import Item

AsyncSessionLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


def count_items(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Item)) or 0


def count_twice(db: Session) -> int:
    return count_items(db) + count_items(db)


def count_untyped(session):
    return session.scalar(select(func.count()).select_from(Item)) or 0


def remember_untyped(db, name):
    db.add(Item(name=name, owner_id=1))


def remember(db: Session, name: str) -> Item:
    item = Item(name=name, owner_id=1)
    db.add(item)
    return item


@router.get("/count")
async def count(db: AsyncSession):
    return {"n": count_items(db.sync_session)}


@router.get("/twice")
async def twice(db: AsyncSession):
    return {"n": count_twice(db.sync_session)}


@router.get("/direct")
async def direct(db: AsyncSession):
    return {"n": db.sync_session.execute(select(1)).scalar_one()}


@router.get("/bound")
async def bound(db: AsyncSession):
    sync = db.sync_session
    return {"n": count_items(sync)}


@router.get("/offloaded")
async def offloaded(db: AsyncSession):
    return {"n": await run_in_threadpool(count_items, db.sync_session)}


@router.get("/opened")
async def opened():
    async with AsyncSessionLocal() as s:
        return {"n": count_items(s.sync_session)}


@router.post("/remember")
async def remember_item(name: str, db: AsyncSession):
    item = remember(db.sync_session, name)
    await db.commit()
    return {"id": item.id}


@router.get("/untyped")
async def untyped(db: AsyncSession):
    return {"n": count_untyped(session=db.sync_session)}


@router.post("/remember-untyped")
async def remember_untyped_item(name: str, db: AsyncSession):
    remember_untyped(db.sync_session, name)
    await db.commit()


@router.get("/greenlet")
async def on_greenlet(db: AsyncSession):
    return {"n": await db.run_sync(count_items)}


@router.get("/nested")
async def on_nested(db: AsyncSession):
    def both(s: Session) -> int:
        return count_items(s) + count_items(db.sync_session)

    return {"n": await db.run_sync(both)}


@router.get("/lambda")
async def on_lambda(db: AsyncSession):
    return {"n": await db.run_sync(lambda s: count_items(s))}
"""


# "untyped": a helper's unannotated parameter handed the synchronous Session, which the Session
# fixpoint does not follow there; `check` passed the route as clean
@pytest.mark.parametrize("function", ["count", "twice", "direct", "bound", "offloaded", "opened", "untyped"])
def test_querying_through_sync_session_outside_run_sync_is_am314(app, findings, function):
    found = findings(app(ROUTES), function)
    assert [f["code"] for f in found] == ["AM314"], found
    (finding,) = found
    assert "MissingGreenlet" in finding["message"] and ".run_sync(helper" in finding["message"], finding


def test_the_chain_names_the_query_the_helper_reaches(app, findings):
    (finding,) = findings(app(ROUTES), "twice")
    assert "count_twice(...)" in finding["message"] and "count_items" in finding["message"], finding


@pytest.mark.parametrize("function", ["remember_item", "remember_untyped_item", "on_greenlet", "on_lambda", "on_nested"])
def test_near_miss_only_adding_or_inside_run_sync_is_no_finding(app, findings, function):
    assert findings(app(ROUTES), function) == []


def test_scan_no_longer_calls_the_sync_session_untyped(app, reported):
    entry = reported(app(ROUTES), "remember_item")
    assert entry["action"] == "keep" and entry["codes"] == ["AM135"], entry


def test_scan_says_the_query_outside_run_sync_beside_the_async_session(app, reported):
    entry = reported(app(ROUTES), "offloaded")
    assert entry["codes"] == ["AM135"], entry
    assert "outside `run_sync` at line" in entry["reasons"][0] and "(AM314)" in entry["reasons"][0], entry


def test_the_premise_querying_off_the_greenlet_raises_and_adding_does_not():
    engine = create_async_engine("sqlite+aiosqlite://")
    maker = async_sessionmaker(engine)

    def query(db: Session) -> int:
        return db.execute(select(text("1"))).scalar_one()

    async def main() -> tuple[bool, int]:
        async with maker() as session:
            session.sync_session.add_all([])  # storing only: no connection needed
            try:
                query(session.sync_session)
            except MissingGreenlet:
                raised = True
            else:
                raised = False
            return raised, await session.run_sync(query)

    try:
        assert asyncio.run(main()) == (True, 1)
    finally:
        asyncio.run(engine.dispose())


LAZY = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Author, Book
from schemas import BookOut


@router.get("/lazy/{book_id}")
async def lazy(book_id: int, db: AsyncSession):
    book = await db.get(Book, book_id)
    return {"author": book.author.name}


@router.get("/lazy-response/{book_id}", response_model=BookOut)
async def lazy_response(book_id: int, db: AsyncSession):
    book = await db.get(Book, book_id)
    return book


@router.get("/returned/{book_id}", response_model=BookOut)
async def returned(book_id: int, db: AsyncSession):
    return await db.get(Book, book_id)


@router.get("/listed", response_model=list[BookOut])
async def listed(db: AsyncSession):
    return (await db.scalars(select(Book))).all()


@router.get("/eager/{book_id}", response_model=BookOut)
async def eager(book_id: int, db: AsyncSession):
    return (await db.scalars(select(Book).where(Book.id == book_id).options(selectinload(Book.author)))).one()


async def book_of(db: AsyncSession, book_id: int) -> Book | None:
    return await db.get(Book, book_id)


async def book_with_author(db: AsyncSession, book_id: int) -> Book | None:
    return await db.get(Book, book_id, options=[selectinload(Book.author)])


@router.get("/through-helper/{book_id}")
async def through_helper(book_id: int, db: AsyncSession):
    book = await book_of(db, book_id)
    return {"author": book.author.name}


@router.get("/through-eager-helper/{book_id}")
async def through_eager_helper(book_id: int, db: AsyncSession):
    book = await book_with_author(db, book_id)
    return {"author": book.author.name}


@router.post("/built")
async def built(title: str, db: AsyncSession):
    book = Book(title=title, author=Author(name="new"))
    db.add(book)
    await db.flush()
    return {"author": book.author.name}


@router.get("/awaitable/{book_id}")
async def awaitable(book_id: int, db: AsyncSession):
    book = await db.get(Book, book_id)
    return {"author": (await book.awaitable_attrs.author).name}
"""


@pytest.mark.parametrize("function", ["lazy", "through_helper"])
def test_a_lazy_load_in_an_async_session_route_is_am314(app, findings, function):
    found = findings(app(LAZY, {"models.py": MODELS, "schemas.py": SCHEMAS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "author" in found[0]["message"] and "MissingGreenlet" in found[0]["message"], found


@pytest.mark.parametrize("function", ["eager", "awaitable", "built", "through_eager_helper"])
def test_near_miss_an_eager_load_or_awaitable_attrs_is_no_finding(app, findings, function):
    assert findings(app(LAZY, {"models.py": MODELS, "schemas.py": SCHEMAS}), function) == []


# Serialising what these return reads `author` (test_am314_response_model.py has the kind).
@pytest.mark.parametrize("function", ["lazy_response", "returned", "listed"])
def test_a_response_model_reading_a_relationship_of_the_queried_object_is_am314(app, findings, function):
    found = findings(app(LAZY, {"models.py": MODELS, "schemas.py": SCHEMAS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "BookOut.author (lazy load while the response is serialised)" in found[0]["message"], found


UNANNOTATED = """
from fastapi import Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.async_stack import get_async
from models import Book


def count_books(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Book)) or 0


@router.get("/unannotated")
async def unannotated(db=Depends(get_async)):
    return {"n": count_books(db.sync_session)}
"""
ASYNC_STACK = """
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

async_engine = create_async_engine("sqlite+aiosqlite://")
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async():
    async with AsyncSessionLocal() as session:
        yield session
"""


def test_an_unannotated_dependency_yielding_an_async_session_gives_one(app, findings, reported):
    # Its yield is a name opened on an async_sessionmaker: the route is on the AsyncSession, and
    # its `db.sync_session` is no untyped carrier (AM304 before)
    root = app(UNANNOTATED, {"models.py": MODELS, "db/async_stack.py": ASYNC_STACK})
    found = findings(root, "unannotated")
    assert [f["code"] for f in found] == ["AM314"], found
    assert reported(root, "unannotated")["codes"] == ["AM135"]


def test_near_miss_an_unannotated_dependency_yielding_something_else_is_not_one(app, findings):
    stack = ASYNC_STACK.replace("yield session", "yield {'session': session}")
    root = app(UNANNOTATED, {"models.py": MODELS, "db/async_stack.py": stack})
    assert "AM314" not in [f["code"] for f in findings(root, "unannotated")]


def test_phase_two_leaves_such_a_route_unchanged_and_says_what_still_fails(app, cli):
    root = app(ROUTES)
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    entry = next(h for h in document["handlers"] if h["function"] == "count")
    assert entry["action"] == "unchanged", entry
    assert "outside `run_sync`" in entry["reasons"][0] and "(AM314)" in entry["reasons"][0], entry
    clean = next(h for h in document["handlers"] if h["function"] == "remember_item")
    assert clean["reasons"] == ["already uses an AsyncSession"], clean


# Another class's `books` is a lazy load: matched by name, the route's own was taken for one.
NAMED_TWICE = MODELS.replace(
    "    name: Mapped[str]\n",
    '    name: Mapped[str]\n    books: Mapped[list["Book"]] = relationship(lazy="{lazy}", viewonly=True)\n', 1,
) + """

class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    books: Mapped[list[Book]] = relationship(viewonly=True, primaryjoin="Shelf.id == foreign(Book.id)")
"""
COUNT = """
from sqlalchemy.ext.asyncio import AsyncSession

from models import Author


@router.get("/count/{author_id}")
async def count(author_id: int, db: AsyncSession):
    author = await db.get(Author, author_id)
    return {"n": len(author.books)}
"""


def test_a_lazy_relationship_of_the_loaded_class_is_am314(app, findings):
    found = findings(app(COUNT, {"models.py": NAMED_TWICE.replace("{lazy}", "select")}), "count")
    assert [f["code"] for f in found] == ["AM314"] and "author.books (lazy load)" in found[0]["message"], found


@pytest.mark.parametrize("lazy", ["raise", "selectin"])
def test_near_miss_the_loaded_class_relationship_never_loads_lazily(app, findings, lazy):
    assert findings(app(COUNT, {"models.py": NAMED_TWICE.replace("{lazy}", lazy)}), "count") == []


# Model code the route runs reads the relationship: a property, an association proxy.
MEMBER_MODELS = MODELS.replace(
    "from sqlalchemy.orm import DeclarativeBase",
    "from sqlalchemy.ext.associationproxy import association_proxy\nfrom sqlalchemy.orm import DeclarativeBase",
) + """
    author_name = association_proxy("author", "name")

    @property
    def byline(self) -> str:
        return f"{self.title} by {self.author.name}"
"""
MEMBER_ROUTES = """
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


@router.get("/proxy/{book_id}")
async def proxy(book_id: int, db: AsyncSession):
    book = await db.get(Book, book_id)
    return {"name": book.author_name}


@router.get("/byline/{book_id}")
async def byline(book_id: int, db: AsyncSession):
    book = await db.get(Book, book_id)
    return {"byline": book.byline}


@router.get("/loaded/{book_id}")
async def loaded(book_id: int, db: AsyncSession):
    book = await db.get(Book, book_id, options=[selectinload(Book.author)])
    return {"name": book.author_name, "byline": book.byline}
"""


@pytest.mark.parametrize(("function", "member"), [("proxy", "Book.author_name"), ("byline", "Book.byline")])
def test_model_code_reading_a_relationship_in_an_async_session_route_is_am314(app, findings, function, member):
    found = findings(app(MEMBER_ROUTES, {"models.py": MEMBER_MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"(runs {member}, reads author: lazy load)" in found[0]["message"], found


def test_near_miss_model_code_whose_relationship_the_query_loads_is_no_finding(app, findings):
    assert findings(app(MEMBER_ROUTES, {"models.py": MEMBER_MODELS}), "loaded") == []


HELPER_ROUTE = """
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


async def book_with_author(db: AsyncSession, book_id: int) -> Book | None:
    return await db.get(Book, book_id, options=[selectinload(Book.author)])


@router.get("/helper/{book_id}")
async def helper(book_id: int, db: AsyncSession):
    book = await book_with_author(db, book_id)
    return {"byline": book.byline}
"""


def test_near_miss_model_code_on_an_object_a_helper_loads_with_the_relationship_is_no_finding(app, findings):
    assert findings(app(HELPER_ROUTE, {"models.py": MEMBER_MODELS}), "helper") == []


VALIDATED = MODELS.replace(
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship",
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates",
) + """
    @validates("title")
    def _signed(self, key, value):
        return f"{value} ({self.author.name})"
"""
WRITES = """
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


@router.post("/retitle/{book_id}")
async def retitle(book_id: int, title: str, db: AsyncSession):
    book = await db.get(Book, book_id)
    book.title = title
    await db.commit()
    return {"ok": True}


@router.post("/retitle-loaded/{book_id}")
async def retitle_loaded(book_id: int, title: str, db: AsyncSession):
    book = await db.get(Book, book_id, options=[selectinload(Book.author)])
    book.title = title
    await db.commit()
    return {"ok": True}
"""


def test_a_write_whose_validator_reads_a_relationship_in_an_async_session_route_is_am314(app, findings):
    found = findings(app(WRITES, {"models.py": VALIDATED}), "retitle")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "book.title (runs Book._signed, reads author: lazy load)" in found[0]["message"], found
    assert findings(app(WRITES, {"models.py": VALIDATED}), "retitle_loaded") == []


STAFF = MODELS + """

class Employee(Base):
    __tablename__ = "employees"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    type: Mapped[str]
    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "employee"}


class Manager(Employee):
    __tablename__ = "managers"
    id: Mapped[int] = mapped_column(ForeignKey("employees.id"), primary_key=True)
    budget: Mapped[int]
    __mapper_args__ = {"polymorphic_identity": "manager"}
"""
SUBCLASS_ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectin_polymorphic

from models import Employee, Manager


@router.get("/budget/{employee_id}")
async def budget(employee_id: int, db: AsyncSession):
    employee = await db.get(Employee, employee_id)
    return {"budget": employee.budget}


@router.get("/budgets")
async def budgets(db: AsyncSession):
    query = select(Employee).options(selectin_polymorphic(Employee, [Manager]))
    employee = (await db.scalars(query)).first()
    return {"budget": employee.budget}
"""


def test_a_subclass_column_read_on_an_object_of_a_base_query_in_an_async_session_route_is_am314(app, findings):
    found = findings(app(SUBCLASS_ROUTES, {"models.py": STAFF}), "budget")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "employee.budget (Manager.budget, a subclass column a query of Employee does not load" in found[0]["message"]
    assert findings(app(SUBCLASS_ROUTES, {"models.py": STAFF}), "budgets") == []


# A hand-made async_sessionmaker keeps expire_on_commit=True (the default): an attribute read after
# the commit refreshes the row, which an AsyncSession cannot do off its greenlet.
EXPIRED = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from models import Author

engine = create_async_engine("sqlite+aiosqlite://")
Expiring = async_sessionmaker(engine)
Kept = async_sessionmaker(engine, expire_on_commit=False)


async def get_expiring():
    async with Expiring() as session:
        yield session


async def get_kept():
    async with Kept() as session:
        yield session


async def get_overridden():
    async with Expiring(expire_on_commit=False) as session:
        yield session


@router.post("/created")
async def created(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    return {"id": author.id}


@router.post("/renamed/{author_id}")
async def renamed(author_id: int, db: AsyncSession = Depends(get_expiring)):
    author = await db.get(Author, author_id)
    author.name = "x"
    await db.commit()
    return {"name": author.name}


@router.post("/rolled-back")
async def rolled_back(name: str, db: AsyncSession = Depends(get_kept)):
    author = await db.get(Author, 1)
    await db.rollback()
    return {"name": author.name}


@router.post("/kept")
async def kept(name: str, db: AsyncSession = Depends(get_kept)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    return {"id": author.id}


@router.post("/overridden")
async def overridden(name: str, db: AsyncSession = Depends(get_overridden)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    return {"id": author.id}


@router.post("/refreshed")
async def refreshed(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    await db.refresh(author)
    return {"id": author.id}


@router.post("/read-first")
async def read_first(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.flush()
    shown = {"id": author.id}
    await db.commit()
    return shown


@router.post("/in-run-sync")
async def in_run_sync(name: str, db: AsyncSession = Depends(get_expiring)):
    author = Author(name=name)
    db.add(author)
    await db.commit()
    return await db.run_sync(lambda s: {"id": author.id})
"""


@pytest.mark.parametrize(
    ("function", "read"),
    [("created", "author.id"), ("renamed", "author.name"), ("rolled_back", "author.name")],
)
def test_a_read_after_the_commit_expiring_it_in_an_async_session_route_is_am314(app, findings, function, read):
    found = findings(app(EXPIRED, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert read in found[0]["message"] and "expire_on_commit" in found[0]["message"], found


def test_the_fix_for_a_read_after_a_rollback_is_a_refresh_not_expire_on_commit(app, findings):
    message = findings(app(EXPIRED, {"models.py": MODELS}), "rolled_back")[0]["message"]
    # the sessionmaker of `rolled_back` already keeps `expire_on_commit=False`: only a refresh helps
    assert "`await session.refresh(obj)` after the rollback" in message, message
    assert "pass `expire_on_commit=False`" not in message, message
    renamed = findings(app(EXPIRED, {"models.py": MODELS}), "renamed")[0]["message"]
    assert "pass `expire_on_commit=False`" in renamed, renamed


@pytest.mark.parametrize("function", ["kept", "overridden", "refreshed", "read_first", "in_run_sync"])
def test_near_miss_no_expiry_a_refresh_or_a_read_before_the_commit(app, findings, function):
    assert findings(app(EXPIRED, {"models.py": MODELS}), function) == []


@pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited")
def test_the_premise_a_read_after_commit_raises_unless_expire_on_commit_is_false():
    from sqlalchemy import Integer, String
    from sqlalchemy.orm import DeclarativeBase, mapped_column

    class Base(DeclarativeBase):
        pass

    class Writer(Base):
        __tablename__ = "writers"
        id = mapped_column(Integer, primary_key=True)
        name = mapped_column(String(20))

    engine = create_async_engine("sqlite+aiosqlite://")

    async def main() -> tuple[bool, str]:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with async_sessionmaker(engine)() as session:
            writer = Writer(name="a")
            session.add(writer)
            await session.commit()
            try:
                _ = writer.name
            except StatementError as error:  # the refresh's statement, wrapping MissingGreenlet
                raised = isinstance(error.orig, MissingGreenlet)
            else:
                raised = False
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            kept = Writer(name="b")
            session.add(kept)
            await session.commit()
            return raised, kept.name

    try:
        assert asyncio.run(main()) == (True, "b")
    finally:
        asyncio.run(engine.dispose())


# The lazy load one await deeper: a project coroutine declared to take the AsyncSession, awaited by
# the route or handed to a background task, loads the object and reads a relationship.
DEEPER = """
from fastapi import BackgroundTasks
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


async def author_of(db: AsyncSession, book_id: int) -> str:
    book = await db.get(Book, book_id)
    return book.author.name


async def author_eager(db: AsyncSession, book_id: int) -> str:
    book = await db.get(Book, book_id, options=[selectinload(Book.author)])
    return book.author.name


async def two_deep(db: AsyncSession, book_id: int) -> str:
    return await author_of(db, book_id)


async def audit(db: AsyncSession, book_id: int) -> None:
    book = await db.get(Book, book_id)
    print(book.author.name)


@router.get("/awaited/{book_id}")
async def awaited(book_id: int, db: AsyncSession):
    return {"author": await author_of(db, book_id)}


@router.get("/deep/{book_id}")
async def deep(book_id: int, db: AsyncSession):
    return {"author": await two_deep(db, book_id)}


@router.post("/audited/{book_id}")
async def audited(book_id: int, tasks: BackgroundTasks, db: AsyncSession):
    tasks.add_task(audit, db, book_id)
    return {}


@router.get("/eager-helper/{book_id}")
async def eager_helper(book_id: int, db: AsyncSession):
    return {"author": await author_eager(db, book_id)}
"""


@pytest.mark.parametrize(("function", "where"), [("awaited", "author_of"), ("deep", "author_of"), ("audited", "audit")])
def test_a_lazy_load_in_a_coroutine_the_route_reaches_with_its_async_session_is_am314(app, findings, function, where):
    found = findings(app(DEEPER, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"in api.items.{where})" in found[0]["message"] and "book.author" in found[0]["message"], found


def test_near_miss_the_coroutine_eager_loads_it(app, findings):
    assert findings(app(DEEPER, {"models.py": MODELS}), "eager_helper") == []


def test_scan_says_the_expired_read_beside_the_async_session(app, reported):
    entry = reported(app(EXPIRED, {"models.py": MODELS}), "created")
    assert entry["codes"] == ["AM135"], entry
    assert "but it reads an expired attribute at line" in entry["reasons"][0], entry
    assert "(AM314)" in entry["reasons"][0], entry
    assert "but" not in reported(app(EXPIRED, {"models.py": MODELS}), "kept")["reasons"][0]


# The lazy load in a repository method on the AsyncSession the repository holds (`self.db`,
# declared AsyncSession in `__init__` or the class body), awaited by the route that built the
# repository or got it through `Depends`.
HELD = """
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


class BookRepo:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def author_of(self, book_id: int) -> str:
        book = await self.session.get(Book, book_id)
        return book.author.name

    async def author_selected(self, book_id: int) -> str:
        book = (await self.session.scalars(select(Book).where(Book.id == book_id))).one()
        return book.author.name

    async def author_two_step(self, book_id: int) -> str:
        result = await self.session.execute(select(Book).where(Book.id == book_id))
        book = result.scalar_one()
        return book.author.name

    async def author_two_step_eager(self, book_id: int) -> str:
        result = await self.session.execute(select(Book).options(selectinload(Book.author)))
        return result.scalars().first().author.name

    async def author_eager(self, book_id: int) -> str:
        book = await self.session.get(Book, book_id, options=[selectinload(Book.author)])
        return book.author.name

    async def author_refreshed(self, book_id: int) -> str:
        book = await self.session.get(Book, book_id)
        await self.session.refresh(book, ["author"])
        return book.author.name


class DeclaredRepo:
    db: AsyncSession

    def __init__(self, db):
        self.db = db

    async def author_of(self, book_id: int) -> str:
        book = await self.db.get(Book, book_id)
        return book.author.name


def get_repo(db: AsyncSession) -> BookRepo:
    return BookRepo(db)


@router.get("/built/{book_id}")
async def built(book_id: int, db: AsyncSession):
    repo = BookRepo(db)
    return {"author": await repo.author_of(book_id)}


@router.get("/injected/{book_id}")
async def injected(book_id: int, repo: BookRepo = Depends(get_repo)):
    return {"author": await repo.author_of(book_id)}


@router.get("/selected/{book_id}")
async def selected(book_id: int, db: AsyncSession):
    return {"author": await BookRepo(db).author_selected(book_id)}


@router.get("/two_step/{book_id}")
async def two_step(book_id: int, db: AsyncSession):
    return {"author": await BookRepo(db).author_two_step(book_id)}


@router.get("/two_step_eager/{book_id}")
async def two_step_eager(book_id: int, db: AsyncSession):
    return {"author": await BookRepo(db).author_two_step_eager(book_id)}


@router.get("/declared/{book_id}")
async def declared(book_id: int, db: AsyncSession):
    return {"author": await DeclaredRepo(db).author_of(book_id)}


@router.get("/eager/{book_id}")
async def eager(book_id: int, db: AsyncSession):
    return {"author": await BookRepo(db).author_eager(book_id)}


@router.get("/refreshed/{book_id}")
async def refreshed(book_id: int, db: AsyncSession):
    return {"author": await BookRepo(db).author_refreshed(book_id)}
"""


@pytest.mark.parametrize(("function", "where"), [
    ("built", "BookRepo.author_of"), ("injected", "BookRepo.author_of"),
    ("selected", "BookRepo.author_selected"), ("declared", "DeclaredRepo.author_of"),
    ("two_step", "BookRepo.author_two_step"),  # the held Session's Result consumed a statement later
])
def test_a_lazy_load_in_a_repository_method_on_its_held_async_session_is_am314(app, findings, function, where):
    found = findings(app(HELD, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"in api.items.{where})" in found[0]["message"] and "book.author" in found[0]["message"], found


@pytest.mark.parametrize("function", ["eager", "refreshed", "two_step_eager"])
def test_near_miss_the_repository_method_eager_loads_or_refreshes_it(app, findings, function):
    assert findings(app(HELD, {"models.py": MODELS}), function) == []


@pytest.mark.parametrize("function", ["built", "selected"])
def test_near_miss_the_held_session_loads_a_relationship_that_never_loads_lazily(app, findings, function):
    models = MODELS.replace("author: Mapped[Author] = relationship()", 'author: Mapped[Author] = relationship(lazy="selectin")')
    assert findings(app(HELD, {"models.py": models}), function) == []


@pytest.mark.parametrize(("function", "where"), [
    ("generic_author", "AsyncBooks.author_of"), ("leaf_author", "LeafBooks.author_of"),
])
def test_a_lazy_load_on_the_async_session_a_generic_repository_binds_is_am314(
    generic_repositories, findings, function, where
):
    found = findings(generic_repositories, function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"in api.items.{where})" in found[0]["message"] and "book.author" in found[0]["message"], found


def test_near_miss_the_generic_repository_eager_loads_it(generic_repositories, findings):
    assert findings(generic_repositories, "eager_author") == []


# A deferred column (`deferred(...)`, `mapped_column(deferred=True)`, a deferred `column_property`)
# read on an object the AsyncSession loaded is a SELECT on first read: `check` said nothing. A
# lazy="dynamic" relationship is a Query, which no eager load fixes: it said "add selectinload".
DEFERRED_MODELS = MODELS.replace(
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship",
    "from sqlalchemy import Text, func, select\n"
    "from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, deferred, mapped_column, relationship",
).replace(
    "    name: Mapped[str]\n",
    '    name: Mapped[str]\n    bio: Mapped[str] = deferred(mapped_column(Text, default=""))\n'
    '    notes: Mapped[str] = mapped_column(Text, default="", deferred=True)\n'
    '    books = relationship("Book", lazy="dynamic", viewonly=True)\n', 1,
) + """

Author.book_count = column_property(
    select(func.count(Book.id)).where(Book.author_id == Author.id).correlate_except(Book).scalar_subquery(),
    deferred=True,
)
"""
DEFERRED_ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload, undefer

from models import Author, Book


@router.get("/bio/{author_id}")
async def bio(author_id: int, db: AsyncSession):
    author = await db.get(Author, author_id)
    return {"bio": author.bio}


@router.get("/notes/{author_id}")
async def notes(author_id: int, db: AsyncSession):
    author = await db.get(Author, author_id)
    return {"notes": author.notes}


@router.get("/book_count/{author_id}")
async def book_count(author_id: int, db: AsyncSession):
    author = await db.get(Author, author_id)
    return {"n": author.book_count}


@router.get("/dynamic/{author_id}")
async def dynamic(author_id: int, db: AsyncSession):
    author = await db.get(Author, author_id)
    return {"n": author.books.count()}


@router.get("/undeferred/{author_id}")
async def undeferred(author_id: int, db: AsyncSession):
    author = await db.get(Author, author_id, options=[undefer(Author.bio)])
    return {"bio": author.bio}


@router.get("/awaited/{author_id}")
async def awaited(author_id: int, db: AsyncSession):
    author = await db.get(Author, author_id)
    return {"bio": await author.awaitable_attrs.bio}


@router.get("/selected/{author_id}")
async def selected(author_id: int, db: AsyncSession):
    author = (await db.scalars(select(Author).where(Author.id == author_id))).one()
    return {"bio": author.bio}


@router.get("/selected_books/{book_id}")
async def selected_books(book_id: int, db: AsyncSession):
    book = (await db.scalars(select(Book).where(Book.id == book_id))).one()
    return {"author": book.author.name}


@router.get("/selected_undeferred/{author_id}")
async def selected_undeferred(author_id: int, db: AsyncSession):
    statement = select(Author).where(Author.id == author_id).options(undefer(Author.bio))
    author = (await db.scalars(statement)).unique().one()
    return {"bio": author.bio}


@router.get("/selected_joined/{book_id}")
async def selected_joined(book_id: int, db: AsyncSession):
    book = (await db.execute(select(Book).where(Book.id == book_id).options(joinedload(Book.author)))).scalars().one()
    return {"author": book.author.name}


@router.get("/listed")
async def listed(db: AsyncSession):
    books = (await db.scalars(select(Book))).all()
    return [b.author.name for b in books]


@router.get("/looped")
async def looped(db: AsyncSession):
    out = []
    for author in (await db.scalars(select(Author))).all():
        out.append(author.bio)
    return out


@router.get("/listed_eager")
async def listed_eager(db: AsyncSession):
    books = (await db.scalars(select(Book).options(selectinload(Book.author)))).all()
    return [b.author.name for b in books]


@router.get("/looped_undeferred")
async def looped_undeferred(db: AsyncSession):
    return [a.bio for a in await db.scalars(select(Author).options(undefer(Author.bio)))]


@router.get("/two_step/{book_id}")
async def two_step(book_id: int, db: AsyncSession):
    result = await db.execute(select(Book).where(Book.id == book_id))
    book = result.scalar_one_or_none()
    return {"author": book.author.name}


@router.get("/two_step_scalars/{author_id}")
async def two_step_scalars(author_id: int, db: AsyncSession):
    result = await db.scalars(select(Author).where(Author.id == author_id))
    author = result.one()
    return {"bio": author.bio}


@router.get("/two_step_listed")
async def two_step_listed(db: AsyncSession):
    result = await db.scalars(select(Book))
    books = result.all()
    return [b.author.name for b in books]


@router.get("/two_step_looped")
async def two_step_looped(db: AsyncSession):
    result = await db.execute(select(Author))
    out = []
    for author in result.unique().scalars():
        out.append(author.bio)
    return out


@router.get("/two_step_first")
async def two_step_first(db: AsyncSession):
    result = await db.execute(select(Book))
    book = result.scalars().first()
    return {"author": book.author.name}


@router.get("/two_step_joined/{book_id}")
async def two_step_joined(book_id: int, db: AsyncSession):
    statement = select(Book).where(Book.id == book_id).options(joinedload(Book.author))
    result = await db.execute(statement)
    book = result.scalar_one()
    return {"author": book.author.name}


@router.get("/two_step_eager")
async def two_step_eager(db: AsyncSession):
    result = await db.scalars(select(Book).options(selectinload(Book.author)))
    return [b.author.name for b in result.all()]


@router.get("/two_step_undeferred")
async def two_step_undeferred(db: AsyncSession):
    result = await db.execute(select(Author).options(undefer(Author.bio)))
    return [a.bio for a in result.scalars().all()]


async def fetch_author(db: AsyncSession, author_id: int) -> Author:
    return await db.get(Author, author_id)


async def fetch_author_with_bio(db: AsyncSession, author_id: int) -> Author:
    return await db.get(Author, author_id, options=[undefer(Author.bio)])


@router.get("/fetched/{author_id}")
async def fetched(author_id: int, db: AsyncSession):
    author = await fetch_author(db, author_id)
    return {"bio": author.bio}


@router.get("/fetched_with_bio/{author_id}")
async def fetched_with_bio(author_id: int, db: AsyncSession):
    author = await fetch_author_with_bio(db, author_id)
    return {"bio": author.bio}


@router.get("/plain/{author_id}")
async def plain(author_id: int, db: AsyncSession):
    author = await db.get(Author, author_id)
    return {"name": author.name}
"""


@pytest.mark.parametrize(("function", "column"), [
    ("bio", "Author.bio"), ("notes", "Author.notes"), ("book_count", "Author.book_count"),
    ("selected", "Author.bio"),  # `(await db.scalars(...)).one()` loads it as well as `get()`
    ("looped", "Author.bio"),  # each element of a loaded list is an object of that load
    ("fetched", "Author.bio"),  # what an awaited coroutine handed the AsyncSession returns
    # a Result kept in a local and consumed a statement later is that query's, as in one step
    ("two_step_scalars", "Author.bio"), ("two_step_looped", "Author.bio"),
])
def test_a_deferred_column_read_in_an_async_session_route_is_am314(app, findings, function, column):
    found = findings(app(DEFERRED_ROUTES, {"models.py": DEFERRED_MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"({column}, a deferred column no query undefers" in found[0]["message"], found
    assert "add `undefer(Model.column)`" in found[0]["message"] and "selectinload" not in found[0]["message"]


@pytest.mark.parametrize(("function", "read"), [
    ("selected_books", "book.author"), ("listed", "b.author"),
    ("two_step", "book.author"), ("two_step_listed", "b.author"), ("two_step_first", "book.author"),
])
def test_a_lazy_load_on_what_an_awaited_select_returned_is_am314(app, findings, function, read):
    found = findings(app(DEFERRED_ROUTES, {"models.py": DEFERRED_MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"] and f"{read} (lazy load)" in found[0]["message"], found


@pytest.mark.parametrize("function", [
    "undeferred", "awaited", "plain", "selected_undeferred", "selected_joined", "listed_eager", "looped_undeferred",
    "fetched_with_bio", "two_step_joined", "two_step_eager", "two_step_undeferred",
])
def test_near_miss_an_undefer_awaitable_attrs_or_a_loaded_column_is_no_finding(app, findings, function):
    assert findings(app(DEFERRED_ROUTES, {"models.py": DEFERRED_MODELS}), function) == []


# The same columns mapped imperatively: `properties=` of `map_imperatively` holds the deferred
# ones (`deferred(t.c.x)`, `column_property(..., deferred=True)`), which check did not read.
IMPERATIVE_MODELS = """
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, func
from sqlalchemy.orm import column_property, deferred, registry

metadata = MetaData()
mapper_registry = registry(metadata=metadata)
authors = Table(
    "authors", metadata,
    Column("id", Integer, primary_key=True), Column("name", String(50)), Column("bio", Text),
)


class Author:
    pass


AUTHOR_PROPERTIES = {
    "bio": deferred(authors.c.bio),
    "loud": column_property(func.upper(authors.c.name), deferred=True),
    "size": column_property(func.length(authors.c.name)),
}
mapper_registry.map_imperatively(Author, authors, properties=AUTHOR_PROPERTIES)
"""
IMPERATIVE_ROUTE = """
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from models import Author


@router.get("/read/{author_id}")
async def read(author_id: int, db: AsyncSession):
    author = await db.get(Author, author_id)
    return {"{field}": author.{field}}


@router.get("/loaded/{author_id}")
async def loaded(author_id: int, db: AsyncSession):
    author = await db.get(Author, author_id, options=[undefer(Author.bio), undefer(Author.loud)])
    return {"bio": author.bio, "loud": author.loud}
"""


@pytest.mark.parametrize("field", ["bio", "loud"])
def test_a_deferred_column_mapped_imperatively_read_in_an_async_session_route_is_am314(app, findings, field):
    root = app(IMPERATIVE_ROUTE.replace("{field}", field), {"models.py": IMPERATIVE_MODELS})
    found = findings(root, "read")
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"(Author.{field}, a deferred column no query undefers" in found[0]["message"], found


@pytest.mark.parametrize(("field", "function"), [("size", "read"), ("bio", "loaded")])
def test_near_miss_an_imperative_column_property_loaded_with_the_row_or_undeferred_is_no_finding(
    app, findings, field, function
):
    root = app(IMPERATIVE_ROUTE.replace("{field}", field), {"models.py": IMPERATIVE_MODELS})
    assert findings(root, function) == []


# `properties=` built by a call: which attributes are relationships is not read, so a read of one
# that is no column of the Table may load lazily; check said nothing.
UNREAD_MODELS = """
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.orm import registry, relationship

metadata = MetaData()
mapper_registry = registry(metadata=metadata)
authors = Table("authors", metadata, Column("id", Integer, primary_key=True), Column("name", String(50)))
books = Table(
    "books", metadata, Column("id", Integer, primary_key=True), Column("author_id", ForeignKey("authors.id")),
)


class Author:
    pass


class Book:
    pass


def author_properties():
    return {"books": relationship(Book)}


mapper_registry.map_imperatively(Book, books)
mapper_registry.map_imperatively(Author, authors, properties=author_properties())
"""
UNREAD_ROUTES = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Author


@router.get("/books/{author_id}")
async def books_of(author_id: int, db: AsyncSession):
    author = await db.get(Author, author_id)
    return [b.id for b in author.books]


@router.get("/name/{author_id}")
async def name_of(author_id: int, db: AsyncSession):
    author = await db.get(Author, author_id)
    return {"id": author.id, "name": author.name}


@router.get("/loaded/{author_id}")
async def loaded_books(author_id: int, db: AsyncSession):
    statement = select(Author).where(Author.id == author_id).options(selectinload(Author.books))
    author = (await db.scalars(statement)).one()
    return [b.id for b in author.books]
"""


def test_a_read_on_a_class_mapped_with_unread_properties_is_am314(app, findings):
    found = findings(app(UNREAD_ROUTES, {"models.py": UNREAD_MODELS}), "books_of")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "author.books (Author.books, no column of its Table" in found[0]["message"], found
    assert "`properties=` is not read" in found[0]["message"], found


@pytest.mark.parametrize("function", ["name_of", "loaded_books"])
def test_near_miss_a_column_of_the_table_or_a_loaded_attribute_is_no_finding(app, findings, function):
    assert findings(app(UNREAD_ROUTES, {"models.py": UNREAD_MODELS}), function) == []


# A read on what an awaited query returns, written inline (`(await db.get(Book, 1)).author`): the
# chain stopped at the `await` and check said nothing on the lazy load.
INLINE_AWAITED = """
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import Book


@router.get("/get/{book_id}")
async def inline_get(book_id: int, db: AsyncSession):
    return {"author": (await db.get(Book, book_id)).author.name}


@router.get("/scalars/{book_id}")
async def inline_scalars(book_id: int, db: AsyncSession):
    return {"author": (await db.scalars(select(Book).where(Book.id == book_id))).one().author.name}


@router.get("/loaded/{book_id}")
async def inline_loaded(book_id: int, db: AsyncSession):
    return {"author": (await db.get(Book, book_id, options=[selectinload(Book.author)])).author.name}


@router.get("/title/{book_id}")
async def inline_title(book_id: int, db: AsyncSession):
    return {"title": (await db.get(Book, book_id)).title}
"""


@pytest.mark.parametrize("function", ["inline_get", "inline_scalars"])
def test_a_lazy_load_on_an_inline_awaited_query_is_am314(app, findings, function):
    found = findings(app(INLINE_AWAITED, {"models.py": MODELS, "schemas.py": SCHEMAS}), function)
    assert [f["code"] for f in found] == ["AM314"] and ".author (lazy load)" in found[0]["message"], found


@pytest.mark.parametrize("function", ["inline_loaded", "inline_title"])
def test_near_miss_an_inline_awaited_query_loading_it_or_a_column_read_is_no_finding(app, findings, function):
    assert findings(app(INLINE_AWAITED, {"models.py": MODELS, "schemas.py": SCHEMAS}), function) == []


def test_a_dynamic_relationship_in_an_async_session_route_says_write_only_not_an_eager_load(app, findings):
    found = findings(app(DEFERRED_ROUTES, {"models.py": DEFERRED_MODELS}), "dynamic")
    assert [f["code"] for f in found] == ["AM314"], found
    assert 'author.books (lazy="dynamic" query)' in found[0]["message"], found
    assert 'lazy=\\"write_only\\"' in found[0]["message"] or 'lazy="write_only"' in found[0]["message"]
    assert "selectinload" not in found[0]["message"]


def test_the_premise_a_deferred_column_read_raises_unless_undeferred(tmp_path):
    import importlib.util
    import sys

    from sqlalchemy.orm import undefer

    (tmp_path / "am314_deferred_models.py").write_text(DEFERRED_MODELS)
    spec = importlib.util.spec_from_file_location("am314_deferred_models", tmp_path / "am314_deferred_models.py")
    assert spec is not None and spec.loader is not None
    models = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(models)
    finally:
        del sys.modules[spec.name]
    base, author = models.Base, models.Author

    engine = create_async_engine("sqlite+aiosqlite:///" + str(tmp_path / "d.db"))
    maker = async_sessionmaker(engine, expire_on_commit=False)

    async def main() -> tuple[bool, str]:
        async with engine.begin() as conn:
            await conn.run_sync(base.metadata.create_all)
        async with maker() as session:
            session.add(author(id=1, name="a", bio="b"))
            await session.commit()
        async with maker() as session:
            loaded = await session.get(author, 1)
            try:
                _ = loaded.bio
            except (MissingGreenlet, StatementError):  # the load's SELECT wraps it
                raised = True
            else:
                raised = False
        async with maker() as session:
            return raised, (await session.get(author, 1, options=[undefer(author.bio)])).bio

    try:
        assert asyncio.run(main()) == (True, "b")
    finally:
        asyncio.run(engine.dispose())
