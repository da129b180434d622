"""A Session method called on a module's `scoped_session` is no call of a project method.

A middleware ran `db_session.add(...)` on the `scoped_session` its `db` module builds: phase two
took the `add` for a call the tool cannot resolve, that might run `NoteRepository.add`, and gave
the migrated route a parallel `NoteRepositoryAsync`, leaving the synchronous class unused
(AM255, "its methods are named where the tool cannot tell which method runs"). The class moves
in place and the route runs on each database; `.add` on an object the analysis cannot type
still keeps the parallel class.
"""

from __future__ import annotations

from textwrap import dedent

import pytest
from phase2_kit import KINDS, run_app

DB = """
import os
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, scoped_session, sessionmaker
from sqlalchemy.types import String

ASYNC = {"sqlite": "sqlite+aiosqlite", "postgresql+psycopg": "postgresql+psycopg", "mysql+pymysql": "mysql+aiomysql"}
engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(bind=engine)
db_session = scoped_session(SessionLocal)
async_engine = create_async_engine(engine.url.set(drivername=ASYNC[engine.url.drivername]))
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(50))


def get_db() -> Iterator[Session]:
    with SessionLocal() as db:
        yield db


DbSession = Annotated[Session, Depends(get_db)]


async def get_async_db() -> AsyncIterator[AsyncSession]:
    async with AsyncSessionLocal() as db:
        yield db


AsyncDbSession = Annotated[AsyncSession, Depends(get_async_db)]
"""
REPO = """
from sqlalchemy.orm import Session

from db import Note


class NoteRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, note: Note) -> Note:
        self._session.add(note)
        self._session.commit()
        return note
"""
NOTES = """
from fastapi import APIRouter

from db import DbSession, Note
from repo import NoteRepository

router = APIRouter()


@router.post("/notes")
def add_note(body: str, db: DbSession):
    return {"id": NoteRepository(db).add(Note(body=body)).id}
"""
MAIN = """
from fastapi import FastAPI, Request

from db import Note, db_session
import notes

app = FastAPI()
app.include_router(notes.router)


@app.middleware("http")
async def audit(request: Request, call_next):
    response = await call_next(request)
    try:
        db_session.add(Note(body="audit " + request.url.path))
        db_session.commit()
    finally:
        db_session.remove()
    return response
"""
# `log` is a parameter of no known type: its `.add` may be NoteRepository's
UNTYPED = """

def record(log, note):
    log.add(note)
"""
CONFIG = """
[tool.async-migrate]
async-dependency = "get_async_db"
async-alias = "AsyncDbSession"
"""
SCRIPT = dedent("""
    import json, os
    from fastapi.testclient import TestClient
    from sqlalchemy import select
    from sqlalchemy.orm import Session
    from db import Base, Note, engine
    from main import app

    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with TestClient(app) as client:
        ids = [client.post("/notes", params={"body": b}).json()["id"] for b in ("a", "b")]
    with Session(engine) as session:
        stored = sorted(session.scalars(select(Note.body)))
    Base.metadata.drop_all(engine)
    engine.dispose()
    print(json.dumps({"ids": ids, "stored": stored}))
""")


def tree(project, main: str = MAIN):  # type: ignore[no-untyped-def]
    return project({"db.py": DB, "repo.py": REPO, "notes.py": NOTES, "main.py": main, "pyproject.toml": CONFIG})


def helpers(document: dict) -> dict[str, tuple[str, list[str]]]:
    return {h["function"]: (h["action"], h["codes"]) for h in document["subsystem"]["helpers"]}


@pytest.mark.parametrize("kind", KINDS)
def test_a_scoped_session_add_elsewhere_lets_the_repository_move_in_place_and_run(cli, project, kind):
    root = tree(project)
    document = cli.json("phase2", root, "-s", "notes.py", "--apply")
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"add_note": "migrate"}, document["handlers"]
    assert helpers(document)["NoteRepository.add"] == ("migrate", ["AM252"]), document["subsystem"]["helpers"]
    assert "NoteRepositoryAsync" not in (root / "repo.py").read_text() + (root / "notes.py").read_text()
    assert run_app(root, kind, SCRIPT, "scopednames") == {
        "ids": [1, 3], "stored": ["a", "audit /notes", "audit /notes", "b"],
    }


def test_near_miss_add_on_an_untyped_object_keeps_the_parallel_class(cli, project):
    root = tree(project, MAIN + UNTYPED)
    document = cli.json("phase2", root, "-s", "notes.py")
    assert helpers(document)["NoteRepository.add"] == ("twin", ["AM255"]), document["subsystem"]["helpers"]
    [found] = [h for h in document["subsystem"]["helpers"] if h["function"] == "NoteRepository.add"]
    assert "cannot tell which method runs (main.py:22: `add`)" in found["reasons"][0], found
