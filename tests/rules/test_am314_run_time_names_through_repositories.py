"""AM314 on `getattr(obj, name)` with a name given at run time, on an object an awaited project
coroutine loaded on an AsyncSession whose query `check` does not follow: a repository's method on
the AsyncSession its instance holds (a generic one reading `self.model`), a service's method
awaiting one, a CRUD instance's method handed the route's AsyncSession. The shape phase two
left after migrating a route before it reported the read unverified: `check` said "no
findings", and the request raised MissingGreenlet when the name was a relationship. A name the
call spells (`getattr(team, "name")`), and a run-time name on an object no Session loaded, are no
finding."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS

ROUTES = """
from types import SimpleNamespace
from typing import Annotated, Generic, TypeVar

from fastapi import Depends
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from models import Book

T = TypeVar("T")
OPTIONS = SimpleNamespace(colour="blue")


class RepositoryAsync(Generic[T]):
    def __init__(self, session: AsyncSession, model: type[T]):
        self.session = session
        self.model = model

    async def get(self, obj_id: int):
        return await self.session.get(self.model, obj_id)


class BookService:
    def __init__(self, session: AsyncSession):
        self.books = RepositoryAsync(session, Book)

    async def find(self, book_id: int):
        return await self.books.get(book_id)


class CRUDBase(Generic[T]):
    def __init__(self, model: type[T]):
        self.model = model

    async def get(self, db: AsyncSession, obj_id: int):
        return await db.get(self.model, obj_id)


crud_book = CRUDBase(Book)


class BookSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str


class BooksTable:
    async def get_book(self, db: AsyncSession, book_id: int) -> BookSchema | None:
        book = await db.get(Book, book_id)
        return BookSchema.model_validate(book) if book else None


Books = BooksTable()


async def get_books(db: AsyncSession) -> RepositoryAsync[Book]:
    return RepositoryAsync(db, Book)


BooksDep = Annotated[RepositoryAsync[Book], Depends(get_books)]


@router.get("/repository/{book_id}/{field}")
async def repository(book_id: int, field: str, books: BooksDep):
    book = await books.get(book_id)
    return str(getattr(book, field))


@router.get("/service/{book_id}/{field}")
async def service(book_id: int, field: str, db: AsyncSession):
    book = await BookService(db).find(book_id)
    return str(getattr(book, field))


@router.get("/crud/{book_id}/{field}")
async def crud(book_id: int, field: str, db: AsyncSession):
    book = await crud_book.get(db, book_id)
    return str(getattr(book, field))


@router.get("/schema/{book_id}/{field}")
async def schema(book_id: int, field: str, db: AsyncSession):
    book = await Books.get_book(db, book_id)
    return str(getattr(book, field))


@router.get("/spelled/{book_id}/{field}")
async def spelled(book_id: int, field: str, books: BooksDep):
    book = await books.get(book_id)
    return {"title": getattr(book, "title"), "option": getattr(OPTIONS, field, None)}
"""


@pytest.mark.parametrize("function", ["repository", "service"])
def test_a_run_time_name_on_an_object_a_coroutine_loads_through_the_session_is_am314(app, findings, function):
    found = findings(app(ROUTES, {"models.py": MODELS}), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert "an attribute named at run time, which the analysis does not read: unverified" in found[0]["message"]
    assert "whose query the analysis does not follow" in found[0]["message"], found


def test_a_crud_instance_s_query_is_followed_to_the_relationships_its_class_has(app, findings):
    # `crud_book = CRUDBase(Book)`: `db.get(self.model, id)` gets a Book, whose `author` it may name
    found = findings(app(ROUTES, {"models.py": MODELS}), "crud")
    assert [f["code"] for f in found] == ["AM314"], found
    assert "an attribute named at run time, which the analysis does not read: unverified; it may name author" in (
        found[0]["message"]
    ), found


def test_near_miss_a_spelled_name_or_an_object_no_session_loaded_is_no_finding(app, findings):
    assert findings(app(ROUTES, {"models.py": MODELS}), "spelled") == []


def test_near_miss_a_coroutine_declared_to_return_a_schema_is_no_finding(app, findings):
    # `-> BookSchema | None`, a pydantic model built from the row: no attribute of it loads
    assert findings(app(ROUTES, {"models.py": MODELS}), "schema") == []


# Which declared returns of the loading coroutine count as "never a mapped instance"
# (`Members.never_mapped`, shared with phase one's AM248, plus check's own `__getattr__` rule).
DECLARED = """
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession
from vendorlib.records import Record

from models import Book


class BookSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str


class BookRecord(Record):
    id: int


class BookHandle:
    def __init__(self, book):
        self._book = book

    def __getattr__(self, name):
        return getattr(self._book, name)


class BooksTable:
    async def summary(self, db: AsyncSession, book_id: int) -> BaseModel:
        return BookSchema.model_validate(await db.get(Book, book_id))

    async def record(self, db: AsyncSession, book_id: int) -> BookRecord:
        return BookRecord.from_row(await db.get(Book, book_id))

    async def with_rows(self, db: AsyncSession, book_id: int) -> tuple[BookSchema, list]:
        book = await db.get(Book, book_id)
        return BookSchema.model_validate(book), [book]

    async def handle(self, db: AsyncSession, book_id: int) -> BookHandle:
        return BookHandle(await db.get(Book, book_id))


Books = BooksTable()


@router.get("/library/{book_id}/{field}")
async def library(book_id: int, field: str, db: AsyncSession):
    book = await Books.summary(db, book_id)
    return str(getattr(book, field))


@router.get("/record/{book_id}/{field}")
async def record(book_id: int, field: str, db: AsyncSession):
    book = await Books.record(db, book_id)
    return str(getattr(book, field))


@router.get("/rows/{book_id}/{field}")
async def rows(book_id: int, field: str, db: AsyncSession):
    pair = await Books.with_rows(db, book_id)
    row = pair[1][0]
    return str(getattr(row, field))


@router.get("/handle/{book_id}/{field}")
async def handle(book_id: int, field: str, db: AsyncSession):
    book = await Books.handle(db, book_id)
    return str(getattr(book, field))
"""


def test_near_miss_a_coroutine_declared_to_return_a_never_mapped_library_class_is_no_finding(app, findings):
    # `-> BaseModel`: pydantic's classes are never mapped (`vocabulary/unmapped.py`), so reading
    # any attribute of the instance runs pydantic's code, not a lazy load
    assert findings(app(DECLARED, {"models.py": MODELS}), "library") == []


def test_a_project_class_with_a_base_outside_path_may_be_a_model(app, findings):
    # `class BookRecord(vendorlib.records.Record)`: a base the analysis cannot read may map the class
    found = findings(app(DECLARED, {"models.py": MODELS}), "record")
    assert [f["code"] for f in found] == ["AM314"], found


def test_a_bare_container_after_a_schema_may_hold_models(app, findings):
    # `-> tuple[BookSchema, list]`: the bare `list` names nothing it holds (here the Book itself)
    found = findings(app(DECLARED, {"models.py": MODELS}), "rows")
    assert [f["code"] for f in found] == ["AM314"], found


def test_a_project_class_forwarding_attributes_may_hand_back_a_model_read(app, findings):
    # `BookHandle.__getattr__` reads the name on the Book it holds: a relationship loads there
    found = findings(app(DECLARED, {"models.py": MODELS}), "handle")
    assert [f["code"] for f in found] == ["AM314"], found
