"""A session dependency that opens its Session through a one-line helper returning a new Session of
the module-level sessionmaker (`def get_api_session(): return SessionLocal()`; fides' and mlrun's
shape), and only closes it (`db.close()`, or `if db: close_session(db)` after `db = None`), opens
it as `db = SessionLocal()` written in place does. Phase two blocked every route with "wraps the
session provider (a commit or a rollback would be lost)", though there is none; now the routes
migrate and the migrated code is RUN on aiosqlite, PostgreSQL and MariaDB, the row read back. A
helper building its sessionmaker at run time is no such opener: the routes stay blocked."""

from __future__ import annotations

import pytest
from phase2_kit import KINDS, run_app
from test_phase2_rules import apply, dedent, handler, read, run

DB = """
import os

from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(engine)


class Base(DeclarativeBase):
    pass


class Conn(Base):
    __tablename__ = "conn"
    id: Mapped[int] = mapped_column(primary_key=True)
    conn_id: Mapped[str] = mapped_column(String(50))

{opener}
"""
OPENERS = {
    "fides": '''
def get_api_session():
    db = SessionLocal()
    return db


def get_db():
    try:
        db = get_api_session()
        yield db
    finally:
        db.close()
''',
    "mlrun": '''
def create_session():
    return SessionLocal()


def close_session(db_session):
    db_session.close()


def get_db():
    db_session = None
    try:
        db_session = create_session()
        yield db_session
    finally:
        if db_session:
            close_session(db_session)
''',
}
# the sessionmaker is built per call: no module-level one for the async stack to stand beside
RUN_TIME = '''
def make_maker():
    return sessionmaker(engine)


def get_api_session():
    maker = make_maker()
    return maker()


def get_db():
    try:
        db = get_api_session()
        yield db
    finally:
        db.close()
'''
API = """
from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import Conn, get_db

router = APIRouter()


@router.post("/conns")
def add_conn(cid: str, db: Session = Depends(get_db)):
    db.add(Conn(conn_id=cid))
    db.commit()
    return {"ok": True}


@router.get("/conns/count")
def count_conns(db: Session = Depends(get_db)):
    return {"n": db.scalar(select(func.count(Conn.id)))}
"""
MAIN = """
from fastapi import FastAPI

import api

app = FastAPI()
app.include_router(api.router)
"""
SCRIPT = """
import asyncio
import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import db
from main import app

db.Base.metadata.drop_all(db.engine)
db.Base.metadata.create_all(db.engine)
with TestClient(app) as client:
    made = [client.post("/conns", params={"cid": c}).json() for c in ("a", "b")]
    count = client.get("/conns/count").json()
asyncio.run(db.async_engine.dispose())
with Session(db.engine) as s:
    stored = list(s.scalars(select(db.Conn.conn_id).order_by(db.Conn.id)))
db.Base.metadata.drop_all(db.engine)
print(json.dumps({"made": made, "count": count, "stored": stored}))
"""


def files(opener: str) -> dict[str, str]:
    return {"db.py": dedent(DB).replace("{opener}", opener), "api.py": dedent(API), "main.py": dedent(MAIN)}


@pytest.mark.parametrize("shape", sorted(OPENERS))
@pytest.mark.parametrize("kind", KINDS)
def test_a_dependency_opening_through_a_one_line_helper_migrates_and_writes(cli, project, kind, shape):
    root = project(files(OPENERS[shape]))
    document = apply(cli, root, subsystem="api.py")
    assert document["subsystem"]["global_blockers"] == [], document["subsystem"]
    for name in ("add_conn", "count_conns"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "await db.commit()" in read(root, "api.py")
    result = run_app(root, kind, dedent(SCRIPT), pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",))
    assert result == {"made": [{"ok": True}, {"ok": True}], "count": {"n": 2}, "stored": ["a", "b"]}


def test_near_miss_a_helper_building_its_sessionmaker_at_run_time_still_blocks(cli, project):
    root = project(files(RUN_TIME))
    document = run(cli, root, subsystem="api.py")
    found = handler(document, "add_conn")
    assert found["action"] == "blocked", found
    reasons = " ".join(found["reasons"])
    assert "`get_api_session` (db.py:" in reasons and "`maker`, a sessionmaker it gets at run time (`maker = make_maker(...)`)" in reasons, reasons
    assert "commit or a rollback" not in reasons
    assert document["files_changed"] == []
