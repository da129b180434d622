"""A session dependency opening `request.app.state.sessionmaker()` (built in the lifespan or an
application factory) beside a module-level sessionmaker of other code (a worker's, a script's).
Before, phase two found no sessionmaker the dependency opens and fell back to every production
one: it built the async stack beside the worker's and moved the routes onto it, a database the
routes never used (the tests' `LIBRARY_DATABASE_URL`, read after import, never reached it). And a
route opening `with request.app.state.sessionmaker() as db` and building a repository on `db`
moved: `await BookRepoAsync(db).titles()` awaited a synchronous Session's results (TypeError).
Now the stack blocks (AM230, saying how to write the async dependency), and the route building a
Session-holding class on a value phase two does not replace blocks (AM272)."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from phase2_kit import run_app

KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
"""
DEPS = """
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def get_db(request: Request) -> Iterator[Session]:
    db = request.app.state.sessionmaker()
    try:
        yield db
    finally:
        db.close()


DbSession = Annotated[Session, Depends(get_db)]
"""
ASYNC_DEPS = """

async def get_async_db(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.async_sessionmaker() as db:
        yield db


AsyncDbSession = Annotated[AsyncSession, Depends(get_async_db)]
"""
REPO = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Book


class BookRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def titles(self) -> list[str]:
        return list(self.session.scalars(select(Book.title).order_by(Book.id)))

    def add(self, title: str) -> int:
        book = Book(title=title)
        self.session.add(book)
        self.session.commit()
        return book.id
"""
BOOKS = """
from fastapi import APIRouter, Request

from deps import DbSession
from repo import BookRepo

router = APIRouter(prefix="/books")


@router.get("")
async def list_books(db: DbSession):
    return BookRepo(db).titles()


@router.post("")
async def add_book(title: str, db: DbSession):
    return {"id": BookRepo(db).add(title)}


@router.get("/direct")
async def direct(request: Request):
    with request.app.state.sessionmaker() as db:
        return BookRepo(db).titles()
"""
WORKER = """
import os

from sqlalchemy import create_engine, delete
from sqlalchemy.orm import sessionmaker

from models import Book

engine = create_engine(os.environ.get("WORKER_DATABASE_URL", "sqlite:///worker.db"))
JobSession = sessionmaker(bind=engine)


def purge() -> None:
    with JobSession() as db:
        db.execute(delete(Book))
        db.commit()
"""
MAIN = """
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

import books


@asynccontextmanager
async def lifespan(app: FastAPI):
    engine = create_engine(os.environ["DATABASE_URL"])
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)
    {async_stack}
    yield
    engine.dispose()


app = FastAPI(lifespan=lifespan)
app.include_router(books.router)
"""
ASYNC_STACK = (
    "async_url = engine.url.set(drivername={'sqlite': 'sqlite+aiosqlite', 'postgresql': 'postgresql+psycopg'}"
    ".get(engine.url.drivername, engine.url.drivername))\n"
    "    app.state.async_engine = create_async_engine(async_url)\n"
    "    app.state.async_sessionmaker = async_sessionmaker(app.state.async_engine, expire_on_commit=False)"
)
CONFTEST = """
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import sessionmaker

from main import app


@pytest.fixture()
def other_maker(tmp_path):
    # the tests swap the application's sessionmaker: what the state holds is no longer one value
    original, original_async = app.state.sessionmaker, app.state.async_sessionmaker
    app.state.sessionmaker = sessionmaker()
    app.state.async_sessionmaker = async_sessionmaker()
    yield
    app.state.sessionmaker, app.state.async_sessionmaker = original, original_async
"""
CONFIG = """
[tool.async-migrate]
async-dependency = "get_async_db"
async-alias = "AsyncDbSession"
"""


def tree(project, hand_written: bool) -> Path:  # type: ignore[no-untyped-def]
    return project({
        "models.py": MODELS,
        "deps.py": DEPS + (ASYNC_DEPS if hand_written else ""),
        "repo.py": REPO,
        "books.py": BOOKS,
        "worker.py": WORKER,
        "main.py": MAIN.replace("{async_stack}", ASYNC_STACK if hand_written else "pass"),
        "pyproject.toml": CONFIG if hand_written else "",
        "tests/__init__.py": "",
        "tests/conftest.py": CONFTEST,
    })


def handlers(document: dict) -> dict[str, dict]:
    return {h["function"]: h for h in document["handlers"]}


def test_a_worker_sessionmaker_is_not_the_stack_of_routes_opening_from_app_state(cli, project):
    root = tree(project, hand_written=False)
    document = cli.json("phase2", root, "-s", "books.py")
    found = handlers(document)
    assert {name: h["action"] for name, h in found.items()} == dict.fromkeys(
        ("list_books", "add_book", "direct"), "blocked"), found
    assert found["list_books"]["codes"] == ["AM230"], found
    assert "opens its Session from `request.app.state.sessionmaker`" in found["list_books"]["reasons"][0], found
    assert document["files_changed"] == [], document["files_changed"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_route_building_a_repository_on_an_app_state_session_blocks_and_the_rest_runs(cli, project, kind):
    root = tree(project, hand_written=True)
    worker = (root / "worker.py").read_text(encoding="utf-8")
    document = cli.json("phase2", root, "-s", "books.py", "--apply")
    found = handlers(document)
    actions = {name: h["action"] for name, h in found.items()}
    assert actions == {"list_books": "migrate", "add_book": "migrate", "direct": "blocked"}, found
    # the application's own code keeps a sessionmaker there: a Session opened outside the async stack
    assert "AM241" in found["direct"]["codes"], found["direct"]
    assert (root / "worker.py").read_text(encoding="utf-8") == worker
    text = (root / "books.py").read_text(encoding="utf-8")
    assert "    with request.app.state.sessionmaker() as db:\n        return BookRepo(db).titles()" in text, text
    script = dedent("""
        import json, os
        from fastapi.testclient import TestClient
        from sqlalchemy import create_engine, inspect
        from main import app
        from models import Base

        engine = create_engine(os.environ["DATABASE_URL"])
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        with TestClient(app) as client:
            created = [client.post("/books", params={"title": t}).status_code for t in ("A", "B")]
            listed = client.get("/books").json()
            direct = client.get("/books/direct").json()
            client.portal.call(app.state.async_engine.dispose)
        Base.metadata.drop_all(engine)
        engine.dispose()
        worker = inspect(create_engine(os.environ["WORKER_DATABASE_URL"])).get_table_names()
        print(json.dumps({"created": created, "listed": listed, "direct": direct, "worker": worker}))
    """)
    assert run_app(root, kind, script, "appstate", extra_env={"WORKER_DATABASE_URL": f"sqlite:///{root / 'worker.db'}"}, warnings=("error::RuntimeWarning",)) == {
        "created": [200, 200], "listed": ["A", "B"], "direct": ["A", "B"], "worker": [],
    }


def test_a_repository_built_on_what_an_untyped_state_opens_blocks_with_am272(cli, project):
    root = tree(project, hand_written=True)
    main = (root / "main.py").read_text(encoding="utf-8")
    main = main.replace("sessionmaker(bind=engine, expire_on_commit=False)", "vendor_maker(engine)")
    (root / "main.py").write_text("from vendor_db import vendor_maker\n" + main, encoding="utf-8")
    found = handlers(cli.json("phase2", root, "-s", "books.py"))["direct"]
    assert found["action"] == "blocked" and "AM272" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM272")]
    assert "builds BookRepo on `db`" in reason and "request.app.state.sessionmaker()" in reason, reason


def test_the_routes_own_untyped_call_is_said_as_it_is(cli, project):
    root = project({"main.py": UNTYPED_MAIN})
    found = handlers(cli.json("phase2", root, "-s", "main.py"))["mixed"]
    assert found["action"] == "blocked" and "AM272" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM272")]
    assert "main.py:17: `db.close()` is called on `db`, bound to `request.app.state.sessionmaker()`" in reason, reason
    assert "calls `db.close()`" not in reason, reason


UNTYPED_MAIN = """
from fastapi import FastAPI, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

app = FastAPI()


class Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count(self) -> int:
        return len(self.session.scalars(select(1)).all())


@app.get("/mixed")
def mixed(request: Request):
    db = request.app.state.sessionmaker()
    try:
        return Repo(db).count()
    finally:
        db.close()
"""
