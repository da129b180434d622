"""A middleware opens a Session on `request.state.db` and a dependency of one router hands it out
(`return request.state.db`, AM264). Routes opening their own Session (`Depends(get_db)`) move to
the async stack, in their own router and beside the routes on the middleware's Session alike;
only the routes reaching that dependency, a route reaching it and `get_db` too, stay synchronous
(AM264 each, naming it). The migrated code is RUN on aiosqlite, PostgreSQL and MariaDB, and the
rows it writes are read back.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sample import database, run_json
from test_phase2_rules import apply, dedent, handler, read, run

KINDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]
ENGINE = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(engine, expire_on_commit=False)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
"""
DEPS = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db import get_db

SessionDep = Annotated[Session, Depends(get_db)]
"""
MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(200))
"""
MAIN = """
from fastapi import FastAPI, Request

from db import SessionLocal
from routers import notes, other

app = FastAPI()
app.include_router(notes.router)
app.include_router(other.router)


@app.middleware("http")
async def db_session_middleware(request: Request, call_next):
    request.state.db = SessionLocal()
    try:
        return await call_next(request)
    finally:
        request.state.db.close()
"""
OTHER = """
from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Note

router = APIRouter()


def get_request_db(request: Request) -> Session:
    return request.state.db


@router.get("/count")
def count(db: Session = Depends(get_request_db)):
    return {"n": db.scalar(select(func.count(Note.id)))}
"""
NOTES = """
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from deps import SessionDep
from models import Note

router = APIRouter()


@router.post("/notes")
async def add_note(msg: str, db: SessionDep):
    db.add(Note(message=msg))
    db.commit()
    return {"ok": True}
"""
# Beside add_note in its router: a route on the middleware's Session, and one reaching both.
MIXED = NOTES.replace("from models import Note", "from models import Note\nfrom routers.other import get_request_db") + """

@router.post("/state-notes")
def add_state_note(msg: str, db: Session = Depends(get_request_db)):
    db.add(Note(message=msg))
    db.commit()
    return {"ok": True}


@router.post("/both")
async def add_both(msg: str, db: SessionDep, state: Session = Depends(get_request_db)):
    db.add(Note(message=msg))
    db.commit()
    return {"ok": True}
"""
SERVE = """
import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from db import SessionLocal, engine
from main import app
from models import Base, Note

Base.metadata.drop_all(engine)
Base.metadata.create_all(engine)
codes = []
with TestClient(app) as client:
    for path, msg in PATHS:
        codes.append(client.post(path, params={"msg": msg}).status_code)
    count = client.get("/count").json()
with SessionLocal() as s:
    stored = sorted(s.scalars(select(Note.message)))
print(json.dumps({"codes": codes, "count": count, "stored": stored}))
"""


def build(project, notes: str) -> Path:  # type: ignore[no-untyped-def]
    return project({
        "db.py": ENGINE, "deps.py": DEPS, "models.py": MODELS, "main.py": MAIN,
        "routers/__init__.py": "", "routers/other.py": OTHER, "routers/notes.py": notes,
    })


def serve(root: Path, url: str, paths: list[tuple[str, str]]) -> dict:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
           "DATABASE_URL": url}
    code = f"PATHS = {paths!r}\n" + dedent(SERVE)
    return run_json(code, cwd=root, env=env, timeout=180, warnings=("error::RuntimeWarning",))


@pytest.mark.parametrize("kind", KINDS)
def test_a_router_opening_its_own_session_migrates_beside_another_on_the_middlewares(cli, project, kind):
    root = build(project, NOTES)
    with database(kind, "statedb") as url:
        url = url or f"sqlite:///{root / 'app.db'}"
        document = apply(cli, root, subsystem="routers/notes.py")
        found = handler(document, "add_note")
        assert found["action"] == "migrate", found
        assert document["subsystem"]["blockers"] == [], document["subsystem"]
        assert "    await db.commit()" in read(root, "routers/notes.py")
        assert read(root, "routers/other.py") == dedent(OTHER) + "\n"
        assert serve(root, url, [("/notes", "hi")]) == {"codes": [200], "count": {"n": 1}, "stored": ["hi"]}


@pytest.mark.parametrize("kind", KINDS)
def test_only_the_routes_reaching_the_middlewares_session_stay_in_a_mixed_router(cli, project, kind):
    root = build(project, MIXED)
    with database(kind, "statedb") as url:
        url = url or f"sqlite:///{root / 'app.db'}"
        document = apply(cli, root, subsystem="routers/notes.py")
        assert handler(document, "add_note")["action"] == "migrate", handler(document, "add_note")
        for name in ("add_state_note", "add_both"):
            found = handler(document, name)
            assert found["action"] == "blocked" and found["codes"] == ["AM264"], found
            assert found["reasons"][0].startswith(
                "routers/other.py:10: the session dependency `get_request_db` does not open a Session"
            ), found
        text = read(root, "routers/notes.py")
        assert "async def add_note(msg: str, db: async_session_dependency):" in text, text
        assert "async def add_both(msg: str, db: SessionDep, state: Session = Depends(get_request_db)):" in text
        paths = [("/notes", "a"), ("/state-notes", "b"), ("/both", "c")]
        assert serve(root, url, paths) == {"codes": [200, 200, 200], "count": {"n": 3}, "stored": ["a", "b", "c"]}


def test_a_router_only_on_the_middlewares_session_stays_blocked(cli, project):
    root = build(project, NOTES)
    document = run(cli, root, subsystem="routers/other.py")
    found = handler(document, "count")
    assert found["action"] == "blocked" and found["codes"] == ["AM264"], found
    assert document["files_changed"] == []


# `get_db` commits after the request: the dependency handing out the middleware's Session opens
# none and commits nothing of its own, and is no second provider disagreeing with it (AM240 blocked
# the whole subsystem); add_note only adds, and the generated dependency's commit saves it.
COMMITTING = ENGINE.replace("""    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
""", """    with SessionLocal() as db:
        yield db
        db.commit()
""")


@pytest.mark.parametrize("kind", KINDS)
def test_a_state_accessor_does_not_disagree_with_a_committing_dependency(cli, project, kind):
    root = project({
        "db.py": COMMITTING, "deps.py": DEPS, "models.py": MODELS, "main.py": MAIN,
        "routers/__init__.py": "", "routers/other.py": OTHER, "routers/notes.py": MIXED.replace("    db.commit()\n", "", 1),
    })
    with database(kind, "statedb") as url:
        url = url or f"sqlite:///{root / 'app.db'}"
        document = apply(cli, root, subsystem="routers/notes.py")
        assert document["subsystem"]["global_blockers"] == [], document["subsystem"]
        assert [b["code"] for b in document["subsystem"]["blockers"]] == ["AM264"], document["subsystem"]
        assert handler(document, "add_note")["action"] == "migrate", handler(document, "add_note")
        for name in ("add_state_note", "add_both"):
            found = handler(document, name)
            assert found["action"] == "blocked" and found["codes"] == ["AM264"], found
        assert "async def add_note(msg: str, db: async_session_dependency):" in read(root, "routers/notes.py")
        assert "await session.commit()" in read(root, "db.py")
        paths = [("/notes", "a"), ("/state-notes", "b")]
        assert serve(root, url, paths) == {"codes": [200, 200], "count": {"n": 2}, "stored": ["a", "b"]}


HEALTH = """

@app.get("/health")
async def health():
    return {"ok": True}
"""
STATE_COUNT = """

@app.get("/state-count")
def state_count(db: Session = Depends(get_request_db)):
    return {"n": db.scalar(select(func.count(Note.id)))}
"""


def test_a_subsystem_reaching_no_session_dependency_is_not_blocked_by_the_middlewares(cli, project):
    # main.py's only route uses no session dependency: `get_request_db`, which only routers/other.py
    # injects, is no part of its requests and blocks nothing of it (it blocked the whole subsystem).
    root = project({
        "db.py": ENGINE, "deps.py": DEPS, "models.py": MODELS, "main.py": MAIN + HEALTH,
        "routers/__init__.py": "", "routers/other.py": OTHER, "routers/notes.py": NOTES,
    })
    document = run(cli, root, subsystem="main.py")
    assert document["subsystem"]["global_blockers"] == [], document["subsystem"]
    assert document["subsystem"]["blockers"] == [], document["subsystem"]
    assert handler(document, "health")["action"] == "unchanged", handler(document, "health")


def test_near_miss_a_subsystem_route_reaching_the_middlewares_session_stays_blocked(cli, project):
    head = "from fastapi import Depends\nfrom sqlalchemy import func, select\nfrom sqlalchemy.orm import Session\n\n" \
        "from models import Note\nfrom routers.other import get_request_db\n"
    root = project({
        "db.py": ENGINE, "deps.py": DEPS, "models.py": MODELS, "main.py": head + MAIN + HEALTH + STATE_COUNT,
        "routers/__init__.py": "", "routers/other.py": OTHER, "routers/notes.py": NOTES,
    })
    document = run(cli, root, subsystem="main.py")
    found = handler(document, "state_count")
    assert found["action"] == "blocked" and found["codes"] == ["AM264"], found
    assert "`get_request_db` does not open a Session" in found["reasons"][0], found
    assert document["files_changed"] == []
