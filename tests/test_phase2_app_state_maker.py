"""An application factory keeping its sessionmaker on the application's state: `create_app(settings)`
builds the engine and `app.state.sessionmaker`, and the session dependency opens
`request.app.state.sessionmaker()`. Before, phase two read that opening as more work per request
(AM271, listing the very open / yield / close it asked for) and blocked every route, also beside a
hand-written async dependency opening `request.app.state.async_sessionmaker()` that the
configuration names: nothing could move. The opening is now the opening; which database each
reaches is the configuration's word (AM243), and without an async dependency phase two says how to
write one (AM230)."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from phase2_kit import run_app

KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

MODELS = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship()
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
    db = request.app.state.async_sessionmaker()
    try:
        yield db
    finally:
        await db.close()


AsyncDbSession = Annotated[AsyncSession, Depends(get_async_db)]
"""
BOOKS = """
from fastapi import APIRouter
from sqlalchemy import select

from deps import DbSession
from models import Author, Book

router = APIRouter(prefix="/books")


@router.get("")
def list_books(db: DbSession):
    return [{"title": b.title, "author": b.author.name} for b in db.scalars(select(Book).order_by(Book.id))]


def add_book(title: str, db: DbSession):
    author = db.scalar(select(Author)) or Author(name="Le Guin")
    book = Book(title=title, author=author)
    db.add(book)
    db.commit()
    return {"id": book.id}


router.add_api_route("", add_book, methods=["POST"])
"""
MAIN = """
import os

from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

import books


def create_app(url: str) -> FastAPI:
    app = FastAPI()
    engine = create_engine(url)
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)
    {async_stack}
    for router in (books.router,):
        app.include_router(router, prefix="/api")
    return app
"""
ASYNC_STACK = (
    "async_url = engine.url.set(drivername={'sqlite': 'sqlite+aiosqlite', 'postgresql': 'postgresql+psycopg'}"
    ".get(engine.url.drivername, engine.url.drivername))\n"
    "    app.state.async_engine = create_async_engine(async_url)\n"
    "    app.state.async_sessionmaker = async_sessionmaker(app.state.async_engine, expire_on_commit=False)"
)
CONFIG = """
[tool.async-migrate]
async-dependency = "get_async_db"
async-alias = "AsyncDbSession"
"""


def tree(project, hand_written: bool, extra: str = "") -> Path:  # type: ignore[no-untyped-def]
    opening = "    db = request.app.state.sessionmaker()\n"
    deps = DEPS.replace(opening, opening + extra, 1)
    return project({
        "models.py": MODELS,
        "deps.py": deps + (ASYNC_DEPS if hand_written else ""),
        "books.py": BOOKS,
        "main.py": MAIN.replace("{async_stack}", ASYNC_STACK if hand_written else "pass"),
        "pyproject.toml": CONFIG if hand_written else "",
    })


def handlers(document: dict) -> dict[str, dict]:
    return {h["function"]: h for h in document["handlers"]}


@pytest.mark.parametrize("kind", KINDS)
def test_beside_a_named_async_dependency_on_app_state_the_routes_move_and_run(cli, project, kind):
    root = tree(project, hand_written=True)
    document = cli.json("phase2", root, "-s", "books.py", "--apply")
    found = handlers(document)
    assert {name: h["action"] for name, h in found.items()} == {"list_books": "migrate", "add_book": "migrate"}, found
    text = (root / "books.py").read_text(encoding="utf-8")
    assert "async def add_book(title: str, db: AsyncDbSession)" in text, text
    assert 'router.add_api_route("", add_book, methods=["POST"])' in text, text
    script = dedent("""
        import asyncio, json, os
        from fastapi.testclient import TestClient
        from main import create_app
        from models import Base

        app = create_app(os.environ["DATABASE_URL"])
        Base.metadata.drop_all(app.state.engine)
        Base.metadata.create_all(app.state.engine)
        with TestClient(app) as client:
            created = [client.post("/api/books", params={"title": t}).status_code for t in ("A", "B")]
            listed = client.get("/api/books").json()
            client.portal.call(app.state.async_engine.dispose)
        Base.metadata.drop_all(app.state.engine)
        app.state.engine.dispose()
        print(json.dumps({"created": created, "listed": listed}))
    """)
    assert run_app(root, kind, script, "appstate", warnings=("error::RuntimeWarning",)) == {
        "created": [200, 200],
        "listed": [{"title": "A", "author": "Le Guin"}, {"title": "B", "author": "Le Guin"}],
    }


def test_near_miss_more_work_beside_the_app_state_opening_still_blocks_with_am271(cli, project):
    root = tree(project, hand_written=True, extra='    db.info["tenant"] = request.headers.get("x-tenant")\n')
    found = handlers(cli.json("phase2", root, "-s", "books.py"))["list_books"]
    assert found["action"] == "blocked" and "AM271" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM271")]
    assert 'db.info["tenant"]' in reason and "`db = request.app.state.sessionmaker()`" not in reason, reason


def test_without_an_async_dependency_the_blocker_says_how_to_write_one(cli, project):
    root = tree(project, hand_written=False)
    found = handlers(cli.json("phase2", root, "-s", "books.py"))["list_books"]
    assert found["action"] == "blocked" and found["codes"] == ["AM230"], found
    assert "opens its Session from `request.app.state.sessionmaker`" in found["reasons"][0], found
    assert "`async-dependency`" in found["reasons"][0], found
