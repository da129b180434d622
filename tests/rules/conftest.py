"""Fixtures for the per-rule tests: a tiny application, and the codes the CLI reports for one handler."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from test_phase2_rules import MODELS  # the same mapped classes the phase-two tests use

# A router module's usual head: the session alias comes from another module.
HEAD = """\
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()
"""


@pytest.fixture
def app(project, app_files) -> Callable[..., Path]:  # type: ignore[no-untyped-def]
    """app("...router source after HEAD...", **other files) -> root of a tiny application."""

    def build(router: str, files: dict[str, str] | None = None) -> Path:
        body = HEAD + "\n\n" + textwrap.dedent(router).strip("\n") + "\n"
        return project({**app_files, "api/__init__.py": "", "api/items.py": body, **(files or {})})

    return build


@pytest.fixture
def reported(cli):  # type: ignore[no-untyped-def]
    """reported(root, function, command="scan", *args) -> that handler's JSON entry (codes beside reasons)."""

    def run(root: Path, function: str, command: str = "scan", *args: str) -> dict:
        document = cli.json(command, root, *args)
        found = [h for h in document["handlers"] if h["function"] == function]
        assert len(found) == 1, document["handlers"]
        entry = found[0]
        assert len(entry["codes"]) == len(entry["reasons"]), entry
        return entry

    return run


# The Session a class dependency holds, bound to a local name before it is handed on
# (the router body for `app`; `shelf.label` is an attribute that is no Session).
BOUND_HELD = """
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Book


def count_books(db: Session) -> int:
    return len(db.scalars(select(Book.id)).all())


def count_label(label: str) -> int:
    return len(label)


class Shelf:
    def __init__(self, db: Session = Depends(get_db_session)) -> None:
        self.db = db
        self.label = "books"


@router.get("/count")
async def count(shelf: Shelf = Depends()):
    db = shelf.db
    return {"n": count_books(db)}
"""


@pytest.fixture
def bound_held() -> str:
    return BOUND_HELD


@pytest.fixture
def findings(cli):  # type: ignore[no-untyped-def]
    """findings(root, function) -> the `check` findings on that function, as JSON."""

    def run(root: Path, function: str) -> list[dict]:
        document = cli.json("check", root)
        return [f for f in document["findings"] if f["function"] == function]

    return run


PHASE2_HEAD = """\
from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.dependencies import session_dependency
from models import Book

router = APIRouter()
"""


@pytest.fixture
def phase2(project, app_files, cli):  # type: ignore[no-untyped-def]
    """phase2("...definitions after the usual router head...") -> the dry run's JSON for api/items.py."""

    def run(router: str, files: dict[str, str] | None = None, *args: str) -> dict:
        body = PHASE2_HEAD + "\n\n" + textwrap.dedent(router).strip("\n") + "\n"
        root = project(
            {**app_files, "api/__init__.py": "", "models.py": MODELS, "api/items.py": body, **(files or {})}
        )
        document = cli.json("phase2", root, "--subsystem", "api/items.py", *args)
        assert document["errors"] == [], document["errors"]
        return document

    return run


@pytest.fixture
def entry():  # type: ignore[no-untyped-def]
    """entry(document, function, where="handlers"|"helpers") -> that JSON entry; codes match reasons."""
    return _entry


def _entry(document: dict, function: str, where: str = "handlers") -> dict:
    listed = document["handlers"] if where == "handlers" else document["subsystem"]["helpers"]
    found = [h for h in listed if h["function"] == function]
    assert len(found) == 1, listed
    assert len(found[0]["codes"]) == len(found[0]["reasons"]), found[0]
    return found[0]


# Repositories keeping the Session they are built with in an inherited `__init__`: one base
# generic over the session type, which each subclass binds (a synchronous subclass built beside
# an async one), through an intermediate generic class too, and a plain async base. The models
# are `test_phase2_rules.MODELS`.
GENERIC_REPOSITORIES = """
from typing import Generic, TypeVar

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, selectinload

from db.engine import get_db_session
from models import Book

SessionT = TypeVar("SessionT", Session, AsyncSession)
OtherT = TypeVar("OtherT", Session, AsyncSession)


async def get_async_db() -> AsyncSession: ...


class Repository(Generic[SessionT]):
    def __init__(self, session: SessionT) -> None:
        self.session = session


class AsyncRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session


class SyncBooks(Repository[Session]):
    def count(self) -> int:
        return len(self.session.scalars(select(Book.id)).all())


class AsyncBooks(Repository[AsyncSession]):
    async def count(self) -> int:
        return len((await self.session.scalars(select(Book.id))).all())

    async def author_of(self, book_id: int) -> str:
        book = await self.session.get(Book, book_id)
        return book.author.name

    async def author_eager(self, book_id: int) -> str:
        book = await self.session.get(Book, book_id, options=[selectinload(Book.author)])
        return book.author.name

    async def save(self, book: Book) -> None:
        self.session.add(book)
        self.session.commit()

    async def save_awaited(self, book: Book) -> None:
        self.session.add(book)
        await self.session.commit()


class Middle(Repository[OtherT]):
    pass


class LeafBooks(Middle[AsyncSession]):
    async def author_of(self, book_id: int) -> str:
        book = await self.session.get(Book, book_id)
        return book.author.name


class InheritedBooks(AsyncRepository):
    async def save(self, book: Book) -> None:
        self.session.add(book)
        self.session.commit()


@router.get("/sync")
async def sync_count(db: Session = Depends(get_db_session)):
    return {"n": SyncBooks(db).count()}


@router.get("/async")
async def async_count(db: AsyncSession = Depends(get_async_db)):
    return {"n": await AsyncBooks(db).count()}


@router.get("/generic/{book_id}")
async def generic_author(book_id: int, db: AsyncSession = Depends(get_async_db)):
    return {"author": await AsyncBooks(db).author_of(book_id)}


@router.get("/eager/{book_id}")
async def eager_author(book_id: int, db: AsyncSession = Depends(get_async_db)):
    return {"author": await AsyncBooks(db).author_eager(book_id)}


@router.get("/leaf/{book_id}")
async def leaf_author(book_id: int, db: AsyncSession = Depends(get_async_db)):
    return {"author": await LeafBooks(db).author_of(book_id)}


@router.post("/generic")
async def generic_save(db: AsyncSession = Depends(get_async_db)):
    await AsyncBooks(db).save(Book(title="x", author_id=1))


@router.post("/awaited")
async def awaited_save(db: AsyncSession = Depends(get_async_db)):
    await AsyncBooks(db).save_awaited(Book(title="x", author_id=1))


@router.post("/inherited")
async def inherited_save(db: AsyncSession = Depends(get_async_db)):
    await InheritedBooks(db).save(Book(title="x", author_id=1))
"""


@pytest.fixture
def generic_repositories(app) -> Path:  # type: ignore[no-untyped-def]
    return app(GENERIC_REPOSITORIES, {"models.py": MODELS})


# The same repositories with Python 3.12's type parameters (PEP 695) in place of module-level
# TypeVars: a Python whose `ast` refuses them reads the module through libcst.
GENERIC_REPOSITORIES_PEP695 = (
    GENERIC_REPOSITORIES.replace("from typing import Generic, TypeVar\n", "")
    .replace('SessionT = TypeVar("SessionT", Session, AsyncSession)\n', "")
    .replace('OtherT = TypeVar("OtherT", Session, AsyncSession)\n', "")
    .replace("class Repository(Generic[SessionT]):", "class Repository[SessionT: (Session, AsyncSession)]:")
    .replace("class Middle(Repository[OtherT]):", "class Middle[OtherT: (Session, AsyncSession)](Repository[OtherT]):")
)
assert GENERIC_REPOSITORIES_PEP695.count("TypeVar") == 0 and GENERIC_REPOSITORIES_PEP695.count("[OtherT: ") == 1
