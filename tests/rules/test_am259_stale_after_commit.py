"""AM259 stale-after-commit: with a synchronous sessionmaker that expired on commit, an object
phase two cannot refresh (a dependency's value it cannot show is one object that Session loaded)
read after the commit blocks the route; one it loaded itself, or a dependency sharing its Session
loaded, gets a refresh (run in tests/test_phase2_expired_reads.py and
tests/test_phase2_dependency_refresh.py)."""

from __future__ import annotations

import textwrap

import pytest


def expiring(app_files: dict[str, str]) -> dict[str, str]:
    engine = app_files["db/engine.py"]
    assert "sessionmaker(engine, expire_on_commit=False)" in engine
    return {"db/engine.py": engine.replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)")}


# The application's own async stack beside the synchronous one, phase two reuses it.
REUSED = """

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

async_engine = create_async_engine("sqlite+aiosqlite:///./app.db")
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=%s)


async def get_async_session():
    async with AsyncSessionLocal() as session:
        yield session
"""
# A route reading, after its commit, an object a dependency took out of a list its Session
# loaded: phase two cannot show it is one object of that Session, so it cannot refresh it.
BUMP = """
from fastapi import Depends


def current_book(session: session_dependency) -> Book:
    return session.scalars(select(Book).where(Book.id == 1)).all()[0]


@router.post("/books/bump")
def bump(session: session_dependency, book: Book = Depends(current_book)):
    session.execute(select(Book.id))
    session.commit()
    return {%s}
"""


def reused(app_files: dict[str, str], expire: str) -> dict[str, str]:
    return {"db/engine.py": expiring(app_files)["db/engine.py"] + REUSED % expire}


def test_an_object_from_a_dependency_read_after_commit_blocks_the_route_with_am259(phase2, entry, app_files):
    document = phase2(BUMP % '"title": book.title', expiring(app_files))
    found = entry(document, "bump")
    assert found["action"] == "blocked", found
    assert "AM259" in found["codes"], found


def test_near_miss_an_object_a_dependency_sharing_the_session_got_is_refreshed(phase2, entry, app_files):
    shown = BUMP.replace("session.scalars(select(Book).where(Book.id == 1)).all()[0]", "session.get(Book, 1)")
    assert shown != BUMP
    document = phase2(shown % '"title": book.title', expiring(app_files))
    found = entry(document, "bump")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found
    assert "await session.refresh(book)" in document["diff"]


def test_an_unshown_dependency_value_names_the_dependency_in_the_reason(phase2, entry, app_files):
    found = entry(phase2(BUMP % '"title": book.title', expiring(app_files)), "bump")
    reason = found["reasons"][found["codes"].index("AM259")]
    assert "`book` is a parameter, filled by `current_book` (api/items.py:" in reason, reason
    assert "which phase two cannot show returns one object its Session loaded" in reason, reason


def test_near_miss_an_object_loaded_in_the_route_is_refreshed(phase2, entry, app_files):
    document = phase2(
        """
        @router.post("/books/bump")
        def bump(session: session_dependency):
            book = session.get(Book, 1)
            session.commit()
            return {"title": book.title}
        """,
        expiring(app_files),
    )
    found = entry(document, "bump")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found
    assert "await session.refresh(book)" in document["diff"]


def test_a_reused_async_maker_that_keeps_objects_blocks_the_same_read_with_am259(phase2, entry, app_files):
    document = phase2(BUMP % '"title": book.title', reused(app_files, "False"))
    found = entry(document, "bump")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM259")]
    # the synchronous maker that reloaded, and the reused async one that does not
    assert "synchronous sessionmaker (db/engine.py:7)" in reason and "the async one (db/engine.py:" in reason, reason


def test_a_list_of_rows_read_after_commit_blocks_with_am259_naming_the_list_and_line(phase2, entry, app_files):
    document = phase2(
        """
        @router.post("/books/titles")
        def titles(session: session_dependency):
            rows = session.execute(select(Book)).all()
            session.execute(select(Book.id))
            session.commit()
            return {"titles": [row[0].title for row in rows]}
        """,
        expiring(app_files),
    )
    found = entry(document, "titles")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM259")]
    assert "`row` (an element of `rows`) is used (line 16)" in reason and "`rows` is a list" in reason, reason


def test_near_miss_a_list_the_route_loaded_is_refreshed_object_by_object(phase2, entry, app_files):
    document = phase2(
        """
        @router.post("/books/titles")
        def titles(session: session_dependency):
            books = session.scalars(select(Book)).all()
            session.execute(select(Book.id))
            session.commit()
            return {"titles": [book.title for book in books]}
        """,
        expiring(app_files),
    )
    found = entry(document, "titles")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found
    assert "for book_2 in books:" in document["diff"] and "await session.refresh(book_2)" in document["diff"]


def test_near_miss_a_list_the_route_refreshes_itself_gets_no_second_loop(phase2, entry, app_files):
    document = phase2(
        """
        @router.post("/books/titles")
        def titles(session: session_dependency):
            books = session.scalars(select(Book)).all()
            session.execute(select(Book.id))
            session.commit()
            for book in books:
                session.refresh(book)
            return {"titles": [book.title for book in books]}
        """,
        expiring(app_files),
    )
    found = entry(document, "titles")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found
    assert document["diff"].count("refresh(") == 2, document["diff"]  # the route's own, made async


def test_near_miss_an_async_maker_that_expires_on_commit_makes_the_same_read_am248_missing_greenlet(
    phase2, entry, app_files
):
    # The primary key too: an expired object loads every attribute on the first read, which
    # under AsyncSession raises MissingGreenlet (not stale data, AM259's case).
    document = phase2(BUMP % '"id": book.id', reused(app_files, "True"))
    found = entry(document, "bump")
    assert found["action"] == "blocked" and found["codes"] == ["AM248"], found
    assert "`book.id` is read after `session.commit()`" in found["reasons"][0]
    assert "(expire_on_commit=True), so the read is implicit IO and raises MissingGreenlet" in found["reasons"][0]


# A helper committing with the Session it is given, handed an object a dependency loaded.
STAMP = """
from fastapi import Depends


def current_book(session: session_dependency) -> Book:
    return session.scalars(select(Book).where(Book.id == 1)).all()[0]


def stamp(session: Session, book: Book, label: str) -> list[str]:
    session.execute(select(Book.id).where(Book.title == book.title))
    session.commit()
    return [label]


@router.post("/books/stamp")
def stamp_all(session: session_dependency, book: Book = Depends(current_book)):
    done = %s
    return {"n": len(done)}
"""


def test_a_comprehension_handing_the_object_on_after_its_commit_blocks_with_am259(phase2, entry, app_files):
    # the second element's call reads `book` after the first one committed, as a `for` loop would
    document = phase2(STAMP % '[stamp(session, book, label) for label in ("a", "b")]', expiring(app_files))
    found = entry(document, "stamp_all")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM259")]
    assert "`book` is passed to `api.items.stamp(...)` in the loop, which runs it again" in reason, reason


def test_near_miss_a_comprehension_over_what_one_committing_call_returned_migrates(phase2, entry, app_files):
    # the first `in` of a comprehension runs once: `book` is read before that one commit only
    document = phase2(STAMP % '[label for label in stamp(session, book, "a")]', expiring(app_files))
    found = entry(document, "stamp_all")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found


# Loaded on one path only, then read after the commit on that path: a refresh added after the
# commit would raise UnboundLocalError on the other.
BRANCH = """
@router.post("/books/touch")
def touch(session: session_dependency, load: bool = False):
    if load:
        book = session.get(Book, 1)
%s    session.commit()
    if load:
        return {"title": book.title}
    return {"title": None}
"""


def test_an_object_bound_on_some_paths_only_blocks_the_route_with_am259_not_a_refresh(phase2, entry, app_files):
    document = phase2(BRANCH % "", expiring(app_files))
    found = entry(document, "touch")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM259")]
    assert "bound only on some paths to line" in reason and "UnboundLocalError" in reason, reason
    assert "refresh(book)" not in document["diff"]


def test_near_miss_an_object_bound_on_every_path_is_refreshed(phase2, entry, app_files):
    document = phase2(BRANCH % "    else:\n        book = session.get(Book, 2)\n", expiring(app_files))
    found = entry(document, "touch")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found
    assert "await session.refresh(book)" in document["diff"]


def test_near_miss_only_the_primary_key_read_after_commit_migrates(phase2, entry, app_files):
    # the synchronous Session reloaded the row for `book.id`, whose value the async one keeps:
    # no stale column, so nothing to block (the title beside it still blocks)
    document = phase2(BUMP % '"id": book.id', expiring(app_files))
    found = entry(document, "bump")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found
    document = phase2(BUMP % '"id": book.id, "title": book.title', expiring(app_files))
    found = entry(document, "bump")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found


def test_the_key_read_beside_a_read_through_another_name_still_blocks_with_am259(phase2, entry, app_files):
    # `same = book` after the commit: the title read through `same` is as stale as through `book`
    bump = BUMP.replace("    return {%s}", "    same = book\n    return {%s}")
    document = phase2(bump % '"id": book.id, "title": same.title', expiring(app_files))
    found = entry(document, "bump")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found


HANDED = """
from fastapi import Depends


def current_book(session: session_dependency) -> Book:
    return session.scalars(select(Book).where(Book.id == 1)).all()[0]


def count_like(session: Session, book: Book) -> int:
    return session.scalar(select(func.count(Book.id)).where(%s))


@router.post("/books/like")
def like(session: session_dependency, book: Book = Depends(current_book)):
    session.execute(select(Book.id))
    session.commit()
    return {"n": count_like(session, book)}
"""


def test_near_miss_an_object_handed_after_commit_to_a_helper_reading_its_key_alone_migrates(
    phase2, entry, app_files
):
    document = phase2(HANDED % "Book.id == book.id", expiring(app_files))
    found = entry(document, "like")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found
    # the helper reading another column still reads what the synchronous Session reloaded
    document = phase2(HANDED % "Book.title == book.title", expiring(app_files))
    found = entry(document, "like")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found


@pytest.mark.parametrize(("statement", "read", "action"), [
    ("session.execute(delete(Book).where(Book.id == 1)).rowcount", "rows", "migrate"),
    ("session.execute(update(Book).values(title='x'))", "rows.rowcount", "migrate"),
    ("session.execute(select(Book.id, Book.title)).all()", "[r.title for r in rows]", "migrate"),
    ("session.execute(text('SELECT title FROM books')).all()", "[r.title for r in rows]", "migrate"),
    ("session.scalars(insert(Book).returning(Book.id), [{'title': 'a'}]).all()", "rows", "migrate"),
    # rows holding objects still block
    ("session.execute(select(Book.id, Book)).all()", "[r[-1].title for r in rows]", "blocked"),
    ("session.execute(insert(Book).returning(Book), [{'title': 'a'}]).all()", "[r[-1].title for r in rows]", "blocked"),
    ("session.execute(select(Book).from_statement(text('SELECT * FROM books'))).all()", "[r[-1].title for r in rows]",
     "blocked"),
])
def test_values_from_statements_holding_no_object_read_after_commit_migrate(
    phase2, entry, app_files, statement, read, action
):
    document = phase2(
        f"""
        from sqlalchemy import delete, insert, text, update


        @router.post("/books/values")
        def values(session: session_dependency):
            rows = {statement}
            session.commit()
            return {{"read": {read}}}
        """,
        expiring(app_files),
    )
    found = entry(document, "values")
    assert found["action"] == action, (statement, found)
    if action == "blocked":
        assert "AM259" in found["codes"], found


# A `Table`'s rows and columns are values; an alias of it or a mapped class beside it may not be.
BOOKS_TABLE = {"tables.py": """
from sqlalchemy import Column, Integer, MetaData, String, Table

books = Table("books", MetaData(), Column("id", Integer, primary_key=True), Column("title", String(50)))
lent = books.alias("lent")
"""}


@pytest.mark.parametrize(("statement", "action"), [
    ("session.execute(select(books)).mappings().all()", "migrate"),
    ("session.scalars(select(books.c.title)).all()", "migrate"),
    ("session.execute(select(tables.books.c['title'])).all()", "migrate"),
    ("session.scalars(insert(books).returning(books.c.id), [{'title': 'a'}]).all()", "migrate"),
    ("session.execute(select(books, Book)).all()", "blocked"),
    ("session.execute(select(lent)).all()", "blocked"),
])
def test_rows_of_a_table_read_after_commit_migrate(phase2, entry, app_files, statement, action):
    document = phase2(
        f"""
        import tables
        from sqlalchemy import insert
        from tables import books, lent


        @router.post("/books/values")
        def values(session: session_dependency):
            rows = {statement}
            session.commit()
            return {{"read": [r for r in rows]}}
        """,
        {**expiring(app_files), **BOOKS_TABLE},
    )
    found = entry(document, "values")
    assert found["action"] == action, (statement, found)
    if action == "blocked":
        assert "AM259" in found["codes"], found


# A helper handing back what its Session ran: a Row of columns (values), or a Row of what a
# statement handed in selects (anything).
HELPER_ROW = """
from sqlalchemy import insert


def add_book(session: Session, title: str):
    stmt = {statement}
    return session.execute(stmt).one()


def run_one(session: Session, stmt):
    return session.execute(stmt).one()


@router.post("/books/row")
def add(session: session_dependency):
    row = {call}
    session.commit()
    return {{"id": row.id}}
"""


@pytest.mark.parametrize(("statement", "action"), [
    ("insert(Book).values(title=title).returning(Book.id)", "migrate"),
    ("select(Book.id).where(Book.title == title)", "migrate"),
    ("select(Book).where(Book.title == title)", "blocked"),
])
def test_a_helper_handing_back_a_row_of_columns_read_after_commit_migrates(phase2, entry, app_files, statement, action):
    source = HELPER_ROW.format(statement=statement, call='add_book(session, "x")')
    found = entry(phase2(source, expiring(app_files)), "add")
    assert found["action"] == action, (statement, found)


def test_near_miss_a_helper_running_a_statement_handed_in_still_blocks(phase2, entry, app_files):
    source = HELPER_ROW.format(statement="select(Book.id)", call="run_one(session, select(Book.id))")
    found = entry(phase2(source, expiring(app_files)), "add")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found


# Syntax newer than Python 3.11 (whose `ast` refuses it) in the route's own module: phase two
# reads that module's tree again for what a commit expires, as the pre-pass reads its facts.
NEWER = {
    "type_alias": "type Rows = list[Book]\n",
    "generic_function": "def first[T](items: list[T]) -> T:\n    return items[0]\n",
    "fstring_pep701": 'LABEL = f"{ {"a": "b"}["a"]}"\n',
    "type_param_default": "def pick[T = int](items: list[T]) -> T:\n    return items[0]\n",
}


# Elements of a list a helper returns, changed, committed and read: a dependency's object (the
# facts) and a helper's list (the function's tree).
READS = {
    "dependency": BUMP % '"title": book.title',
    "helper_list": """
        def unread(session: Session) -> list[Book]:
            return list(session.scalars(select(Book)).all())


        @router.post("/books/read")
        def bump(session: session_dependency):
            books = unread(session)
            for book in books:
                book.title = book.title.upper()
            session.commit()
            return [book.title for book in books]
        """,
}


@pytest.mark.parametrize("kind", sorted(NEWER))
@pytest.mark.parametrize("read", sorted(READS))
def test_a_module_in_newer_syntax_blocks_as_the_same_module_without_it(phase2, entry, app_files, kind, read):
    plain = entry(phase2(READS[read], expiring(app_files)), "bump")
    newer = entry(phase2(textwrap.dedent(READS[read]) + "\n\n" + NEWER[kind], expiring(app_files)), "bump")
    assert newer["action"] == "blocked" and "AM259" in newer["codes"], newer
    assert newer["reasons"] == plain["reasons"], (newer, plain)


# A refresh naming attributes after the commit (`session.refresh(book, ["title"])`): the reads of
# those are fresh, so no refresh is asked for; a read of another attribute (or one before that
# refresh) still blocks, naming what the refresh leaves out instead of asking for what is there.
PARTIAL = BUMP.replace("    return {%s}", "    %s\n    return {%s}")


@pytest.mark.parametrize("refresh", [
    'session.refresh(book, ["title"])', 'session.refresh(book, attribute_names=("title", "id"))',
])
def test_near_miss_a_refresh_naming_the_attributes_read_after_the_commit_migrates(phase2, entry, app_files, refresh):
    document = phase2(PARTIAL % (refresh, '"title": book.title'), expiring(app_files))
    found = entry(document, "bump")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found
    assert document["diff"].count("refresh(") == 2, document["diff"]  # the route's own, made async


@pytest.mark.parametrize(("refresh", "read", "left"), [
    ('session.refresh(book, ["title"])', '"title": book.title, "author": book.author_id',
     "`book.author_id` is read at line 23: name that attribute there too"),
    ('title = book.title\n    session.refresh(book, ["title"])', '"title": title',
     "`book` is used at line 22, before it: move that refresh up to the commit"),
])
def test_a_refresh_naming_other_attributes_blocks_with_am259_saying_what_it_leaves_out(
    phase2, entry, app_files, refresh, read, left
):
    found = entry(phase2(PARTIAL % (refresh, read), expiring(app_files)), "bump")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM259")]
    assert "with attribute_names `title` only, and " + left in reason, reason


# Values that are no ORM object, by what they were built or loaded as: a refresh of one raises
# UnmappedInstanceError, so AM259 never asks for it.
NO_OBJECT = """
from fastapi import Depends
from pydantic import BaseModel


class Token(BaseModel):
    sub: str


class Paging:
    def __init__(self, size: int = 10) -> None:
        self.size = size


def current_token():
    return Token(sub="ann")


def page_size() -> int:
    return 10


def shared_count(session: session_dependency):
    return session.scalar(select(func.count(Book.id)))


def total(session: Session):
    n = session.scalar(select(func.count(Book.id)))
    return n + 1


def legacy_total(session: Session):
    return session.query(Book).count()


def current_book(session: session_dependency):
    return session.scalars(select(Book).where(Book.id == 1)).all()[0]


@router.post("/books/bump")
def bump(session: session_dependency, value=Depends(%s)):
    session.execute(select(Book.id))
    session.commit()
    return {"value": %s}
"""
HELPER = """
@router.post("/books/bump")
def bump(session: session_dependency):
    value = %s(session)
    session.commit()
    return {"value": value}
"""


@pytest.mark.parametrize(("filled", "read"), [
    ("current_token", "value.sub"),  # a pydantic model the dependency builds
    ("page_size", "value"),  # `-> int`
    ("Paging", "value.size"),  # a class that is not mapped
    ("shared_count", "value"),  # a count on the route's own Session
])
def test_near_miss_a_dependency_giving_no_orm_object_read_after_commit_migrates(
    phase2, entry, app_files, filled, read
):
    found = entry(phase2(NO_OBJECT % (filled, read), expiring(app_files)), "bump")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found


@pytest.mark.parametrize("helper", ["total", "legacy_total"])
def test_near_miss_a_helper_returning_a_number_read_after_commit_migrates(phase2, entry, app_files, helper):
    source = NO_OBJECT.split("@router.post")[0] + HELPER % helper
    found = entry(phase2(source, expiring(app_files)), "bump")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found


def test_an_untyped_dependency_giving_an_object_read_after_commit_still_blocks_with_am259(phase2, entry, app_files):
    found = entry(phase2(NO_OBJECT % ("current_book", "value.title"), expiring(app_files)), "bump")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found
    assert "add `session.refresh(value)`" in found["reasons"][found["codes"].index("AM259")]


# The synchronous sessionmaker a module-level instance holds (`db.SessionLocal`, set in `__init__`):
# its expire_on_commit is read from the `sessionmaker(...)` call there.
HELD_MAKER = """
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

FLAG = bool(1)


class Database:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.SessionLocal = sessionmaker(bind=self.engine%s)


db = Database("sqlite:///./app.db")


def get_db_session() -> Iterator[Session]:
    with db.SessionLocal() as session:
        yield session
"""


def test_near_miss_a_held_sessionmaker_keeping_objects_on_commit_is_no_am259(phase2, entry):
    found = entry(phase2(BUMP % '"title": book.title', {"db/engine.py": HELD_MAKER % ", expire_on_commit=False"}), "bump")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found


@pytest.mark.parametrize(("keywords", "said"), [
    ("", "the synchronous sessionmaker (`db.SessionLocal` at db/engine.py:15) expires every object on commit"),
    (", expire_on_commit=FLAG", "whether the synchronous sessionmaker (`db.SessionLocal` at db/engine.py:15: "
     "`expire_on_commit=FLAG`) expires objects on commit is unverified"),
])
def test_a_held_sessionmaker_that_expires_or_cannot_be_read_blocks_with_am259_saying_which(
    phase2, entry, keywords, said
):
    found = entry(phase2(BUMP % '"title": book.title', {"db/engine.py": HELD_MAKER % keywords}), "bump")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found
    assert said in found["reasons"][found["codes"].index("AM259")], found["reasons"]


# A method of a class holding the Session reads, after committing there, a parameter annotated
# with a pydantic model: no ORM object, so no refresh is asked for; one annotated with a mapped
# class still blocks.
HELD_SERVICE = """
from fastapi import Depends
from pydantic import BaseModel
from sqlalchemy import update


class Patch(BaseModel):
    title: str


class BookService:
    def __init__(self, session: session_dependency):
        self.session = session

    def rename(self, book_id: int, data: %s) -> dict:
        self.session.execute(update(Book).where(Book.id == book_id).values(title=data.title))
        self.session.commit()
        return {"title": data.title}


@router.post("/books/{book_id}")
def rename(book_id: int, data: Patch, service: BookService = Depends(BookService)):
    return service.rename(book_id, data)
"""


def test_near_miss_a_held_sessions_method_reading_a_pydantic_parameter_after_commit_migrates(phase2, entry, app_files):
    found = entry(phase2(HELD_SERVICE % "Patch", expiring(app_files)), "rename")
    assert (found["action"], "AM259" in found["codes"]) == ("migrate", False), found


def test_a_held_sessions_method_reading_a_mapped_parameter_after_commit_blocks_with_am259(phase2, entry, app_files):
    found = entry(phase2(HELD_SERVICE % "Book", expiring(app_files)), "rename")
    assert found["action"] == "blocked" and "AM259" in found["codes"], found
    assert "fix: add `self.session.refresh(data)` after it" in found["reasons"][found["codes"].index("AM259")]
