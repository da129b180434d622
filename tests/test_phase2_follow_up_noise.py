"""Phase two's follow-ups say only what the run wrote or needs: on a project with two
synchronous stacks (a `scoped_session` registry beside a `SessionLocal` with `get_db`) and no
`Annotated[Session, Depends(...)]` alias, the note on the generated stack's generic names lists
the pieces written (no AsyncSession alias, which none of the rewritten code uses), and a later
run on a subsystem where every route stays blocked does not ask for `sqlalchemy[asyncio]`.
"""

from __future__ import annotations

from pathlib import Path

from test_phase2_rules import handler

DB = """
from sqlalchemy import create_engine
from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker

engine = create_engine("sqlite:///./app.db")
db_session = scoped_session(sessionmaker(bind=engine))
SessionLocal = sessionmaker(bind=engine, autoflush=False)
Base = declarative_base()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
"""

MODELS = """
from sqlalchemy import Column, Integer, String

from db import Base


class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    body = Column(String)
"""

NOTES = """
from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import get_db
from models import Note

router = APIRouter()


@router.get("/notes")
async def list_notes(db: Session = Depends(get_db)):
    return [n.body for n in db.scalars(select(Note)).all()]
"""

USERS = """
from fastapi import APIRouter

from db import db_session
from models import Note

router = APIRouter()


@router.get("/count")
async def count():
    return db_session.query(Note).count()
"""

GREENLET = "add `sqlalchemy[asyncio]` to the dependencies"


def build(project) -> Path:  # type: ignore[no-untyped-def]
    return project({
        "pyproject.toml": '[project]\nname = "x"\nversion = "0"\n',
        "db.py": DB, "models.py": MODELS,
        "routers/__init__.py": "", "routers/notes.py": NOTES, "routers/users.py": USERS,
    })


def test_the_generic_names_note_lists_only_the_pieces_written(cli, project):
    root = build(project)
    document = cli.json("phase2", str(root), "--subsystem", "routers/notes.py", "--apply")
    assert handler(document, "list_notes")["action"] == "migrate", document["handlers"]
    written = (root / "db.py").read_text(encoding="utf-8")
    assert "async_session_dependency" not in written, written
    said = [f for f in document["subsystem"]["follow_ups"] if "stands for `SessionLocal`" in f]
    assert len(said) == 1, document["subsystem"]["follow_ups"]
    assert said[0].startswith(
        "the async stack (`async_engine`, `async_database_sessionmaker`, `get_async_db_session`) stands for "
        "`SessionLocal` (db.py:6) only, not `db_session`: "
    ), said[0]
    # the subsystem now runs on the asyncio extension: it needs greenlet
    assert any(f.startswith(GREENLET) for f in document["subsystem"]["follow_ups"]), document["subsystem"]


def test_a_subsystem_where_nothing_migrates_gets_no_greenlet_follow_up_beside_an_existing_stack(cli, project):
    root = build(project)
    cli.json("phase2", str(root), "--subsystem", "routers/notes.py", "--apply")
    before = (root / "routers/users.py").read_bytes()
    document = cli.json("phase2", str(root), "--subsystem", "routers/users.py")
    assert handler(document, "count")["action"] == "blocked", document["handlers"]
    assert document["files_changed"] == []
    assert not any(f.startswith(GREENLET) for f in document["subsystem"]["follow_ups"]), document["subsystem"]
    assert (root / "routers/users.py").read_bytes() == before
    # the subsystem already moved keeps the follow-up on a rerun
    again = cli.json("phase2", str(root), "--subsystem", "routers/notes.py")
    assert any(f.startswith(GREENLET) for f in again["subsystem"]["follow_ups"]), again["subsystem"]


def test_the_generic_names_note_does_not_ask_for_names_the_configuration_gives(cli, project):
    # A new-user trial named the replica's stack in --config and was still told to run phase two
    # with a configuration naming it.
    root = build(project)
    config = root / "names.toml"
    config.write_text(
        '[tool.async-migrate]\nasync-engine = "async_notes_engine"\nasync-sessionmaker = "async_notes_maker"\n'
        'async-dependency = "get_async_notes_db"\n',
        encoding="utf-8",
    )
    document = cli.json("phase2", str(root), "--subsystem", "routers/notes.py", "--config", str(config))
    assert handler(document, "list_notes")["action"] == "migrate", document["handlers"]
    [said] = [f for f in document["subsystem"]["follow_ups"] if "stands for `SessionLocal`" in f]
    assert said.startswith("the async stack (`async_notes_engine`, `async_notes_maker`, `get_async_notes_db`"), said
    assert "to say so in its names" not in said, said
    # near miss: the default names still get the advice
    default = cli.json("phase2", str(root), "--subsystem", "routers/notes.py")
    [said] = [f for f in default["subsystem"]["follow_ups"] if "stands for `SessionLocal`" in f]
    assert "to say so in its names, run phase two with a configuration (`--config`)" in said, said
