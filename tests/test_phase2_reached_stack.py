"""The async stack a subsystem migrates onto copies the Session its own routes reach.

`db.py` has two session dependencies on one engine: `get_db` (`SessionLocal`, autoflush off) and
`get_notes_session` (SQLModel's `Session(engine)`, autoflush on). The notes router counts a note
it only added: with autoflush the count includes it. Copying `SessionLocal`'s settings for the
notes router (as when the project's every dependency chose the stack) answers 0 with a 200.

- The notes subsystem's stack autoflushes and makes SQLModel's AsyncSession: RUN on aiosqlite
  and PostgreSQL, the count is 1 and the row is written.
- Near miss: the plain subsystem's stack keeps `autoflush=False` and SQLAlchemy's AsyncSession.
- A second plain router, migrated after the first, reuses that stack: the autoflush of
  `get_notes_session`, which its routes never reach, does not block it (it did, so the result
  depended on the order subsystems were migrated in); the notes router then is blocked (AM326),
  since it does reach an autoflushing Session.
"""

from __future__ import annotations

import pytest
from phase2_kit import run_app
from test_phase2_rules import apply, dedent, run

DB = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

engine = create_engine(os.environ.get("DATABASE_URL", "sqlite://"))
SessionLocal = sessionmaker(bind=engine, autoflush=False)


def get_db():
    with SessionLocal() as db:
        yield db


def get_notes_session():
    with Session(engine) as session:
        yield session
"""

MODELS = """
from sqlmodel import Field, SQLModel


class Note(SQLModel, table=True):
    __tablename__ = "reached_notes"
    id: int | None = Field(default=None, primary_key=True)
    body: str = Field(max_length=255)
"""

NOTES = """
from fastapi import APIRouter, Depends
from sqlmodel import Session, func, select

from db import get_notes_session
from models import Note

router = APIRouter()


@router.post("/notes")
def create_note(body: str, session: Session = Depends(get_notes_session)) -> dict:
    session.add(Note(body=body))
    total = session.exec(select(func.count()).select_from(Note)).one()
    session.commit()
    return {"total": total}
"""

PLAIN = """
from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import get_db
from models import Note

router = APIRouter()


@router.get("/NAME")
def NAME(db: Session = Depends(get_db)) -> dict:
    return {"total": db.scalar(select(func.count()).select_from(Note))}
"""

MAIN = """
from fastapi import FastAPI

from api import notes, ping, pong

app = FastAPI()
app.include_router(notes.router)
app.include_router(ping.router)
app.include_router(pong.router)
"""


def files() -> dict[str, str]:
    return {
        "db.py": DB, "models.py": MODELS, "api/__init__.py": "", "api/notes.py": NOTES,
        "api/ping.py": PLAIN.replace("NAME", "ping"), "api/pong.py": PLAIN.replace("NAME", "pong"),
        "main.py": MAIN,
    }


def actions(document: dict) -> dict[str, str]:
    return {h["function"]: h["action"] for h in document["handlers"]}


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_notes_stack_keeps_the_autoflush_of_the_session_its_routes_get(cli, project, kind):
    root = project(files())
    document = apply(cli, root, subsystem="api/notes.py")
    assert actions(document) == {"create_note": "migrate"}
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlalchemy import text
        from sqlmodel import SQLModel

        import db
        from main import app

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with TestClient(app) as client:
            first = client.post("/notes", params={"body": "a"}).json()
            second = client.post("/notes", params={"body": "b"}).json()
        maker = db.async_database_sessionmaker
        asyncio.run(db.async_engine.dispose())
        with db.SessionLocal() as session:
            stored = session.scalars(text("select body from reached_notes order by id")).all()
        SQLModel.metadata.drop_all(db.engine)
        made_by = maker.class_
        print(json.dumps({
            "first": first, "second": second, "stored": list(stored),
            "autoflush": maker.kw.get("autoflush", True),
            "made_by": f"{made_by.__module__}.{made_by.__name__}",
        }))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180) == {
        "first": {"total": 1}, "second": {"total": 2}, "stored": ["a", "b"], "autoflush": True,
        "made_by": "sqlmodel.ext.asyncio.session.AsyncSession",
    }


def test_near_miss_plain_stack_keeps_autoflush_off_and_sqlalchemys_session(cli, project):
    root = project(files())
    assert actions(apply(cli, root, subsystem="api/ping.py")) == {"ping": "migrate"}
    db = (root / "db.py").read_text(encoding="utf-8")
    assert "autoflush=False" in db.split("async_sessionmaker(", 1)[1].split("\n)", 1)[0], db
    assert "sqlmodel.ext.asyncio" not in db, db


def test_second_plain_router_is_not_blocked_by_a_dependency_it_never_reaches(cli, project):
    root = project(files())
    apply(cli, root, subsystem="api/ping.py")
    assert actions(run(cli, root, subsystem="api/pong.py")) == {"pong": "migrate"}
    notes = run(cli, root, subsystem="api/notes.py")
    assert actions(notes) == {"create_note": "blocked"}
    assert [b["code"] for b in notes["subsystem"]["blockers"]] == ["AM326"]
