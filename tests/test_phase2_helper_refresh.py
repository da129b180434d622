"""The refresh after a commit is written once, and only under `if obj in db:` where it must be.

The synchronous sessionmaker expires on commit, the generated async one does not: phase two adds
`await db.refresh(note)` after a commit the route reads `note` after. Two defects: where a helper
added the object (`crud.stage_note(db, note)` doing `db.add(note)`), the refresh was put under a
needless `if note in db:`; and where a helper added and committed it and the route committed
again (`crud.add_and_commit(db, note); db.commit()`), it was written after each commit, though
nothing reads `note` in between. The migrated routes run on each database and the rows are
written. Near misses: a helper called on one branch only keeps the `if`; a read between two
commits keeps both refreshes.
"""

from __future__ import annotations

import re
from textwrap import dedent

import pytest
from phase2_kit import KINDS, run_app
from test_phase2_rules import apply, function

DB = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///./app.db"))
SessionLocal = sessionmaker(bind=engine, autoflush=False)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
"""
MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(100))
"""
CRUD = """
from sqlalchemy.orm import Session

from models import Note


def stage_note(db: Session, note: Note) -> None:
    db.add(note)


def add_and_commit(db: Session, note: Note) -> None:
    db.add(note)
    db.commit()
"""
NOTES = """
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

import crud
from db import get_db
from models import Note

router = APIRouter(prefix="/notes")


@router.post("/staged", status_code=201)
def create_staged(text: str, db: Session = Depends(get_db)):
    note = Note(text=text)
    crud.stage_note(db, note)
    db.commit()
    return {"id": note.id, "text": note.text}


@router.post("/twice", status_code=201)
def create_twice(text: str, db: Session = Depends(get_db)):
    note = Note(text=text)
    crud.add_and_commit(db, note)
    db.commit()
    return {"id": note.id, "text": note.text}
"""
NEAR = """

@router.post("/maybe", status_code=201)
def create_maybe(text: str, db: Session = Depends(get_db)):
    note = Note(text=text)
    if text:
        crud.stage_note(db, note)
    db.commit()
    return {"text": note.text}


@router.post("/edited", status_code=201)
def create_edited(text: str, db: Session = Depends(get_db)):
    note = Note(text=text)
    crud.add_and_commit(db, note)
    note.text = note.text + "!"
    db.commit()
    return {"id": note.id, "text": note.text}
"""
MAIN = """
from fastapi import FastAPI

from notes import router

app = FastAPI()
app.include_router(router)
"""
SCRIPT = dedent("""
    import json, os
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session
    import db as stack
    from main import app
    from models import Base, Note

    engine = create_engine(os.environ["DATABASE_URL"])
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with TestClient(app) as client:
        answers = [client.post(f"/notes/{p}", params={"text": p}).json()["text"] for p in ("staged", "twice")]
        client.portal.call(stack.async_engine.dispose)
    with Session(engine) as session:
        stored = sorted(session.scalars(select(Note.text)))
    Base.metadata.drop_all(engine)
    engine.dispose()
    print(json.dumps({"answers": answers, "stored": stored}))
""")


def tree(project, notes: str = NOTES):  # type: ignore[no-untyped-def]
    return project({"db.py": DB, "models.py": MODELS, "crud.py": CRUD, "notes.py": notes, "main.py": MAIN})


def refreshes(text: str) -> list[str]:
    return re.findall(r"^ *(?:if note in db:|await db\.refresh\(note\))$", text, re.M)


@pytest.mark.parametrize("kind", KINDS)
def test_one_refresh_with_no_guard_after_a_helper_adds_and_the_rows_are_written(cli, project, kind):
    root = tree(project)
    document = apply(cli, root, subsystem="notes.py")
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_staged": "migrate", "create_twice": "migrate",
    }, document["handlers"]
    staged = function(root, "notes.py", "create_staged")
    assert refreshes(staged) == ["    await db.refresh(note)"], staged
    twice = function(root, "notes.py", "create_twice")
    assert refreshes(twice) == ["    await db.refresh(note)"], twice
    assert twice.index("await db.commit()") < twice.index("await db.refresh(note)"), twice
    assert run_app(root, kind, SCRIPT, "helperrefresh") == {
        "answers": ["staged", "twice"], "stored": ["staged", "twice"],
    }


def test_near_miss_an_add_on_one_branch_keeps_the_guard_and_a_read_between_keeps_both(cli, project):
    root = tree(project, NOTES + NEAR)
    apply(cli, root, subsystem="notes.py")
    maybe = function(root, "notes.py", "create_maybe")
    assert refreshes(maybe) == ["    if note in db:", "        await db.refresh(note)"], maybe
    edited = function(root, "notes.py", "create_edited")
    assert refreshes(edited) == ["    await db.refresh(note)", "    await db.refresh(note)"], edited
