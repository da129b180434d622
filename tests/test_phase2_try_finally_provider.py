"""A session dependency opening `Session(engine)` by hand, no sessionmaker and no `with`
(`session = Session(engine)`, then try: yield, commit / except: rollback / finally: close), is the
same synchronous stack as `with Session(engine) as s: yield s`: the async stack goes after the
engine. Phase two blocked the whole subsystem with "no sessionmaker found", naming an unrelated
helper annotated `-> Session`. The migrated route, which only adds (the dependency commits), is
RUN on aiosqlite, PostgreSQL and MariaDB, and the row is read back.
"""

from __future__ import annotations

import pytest
from phase2_kit import KINDS, run_app
from test_phase2_rules import apply, dedent, handler, read

DB = """
import os
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session, create_engine

engine = create_engine(os.environ["DATABASE_URL"])


def get_db() -> Iterator[Session]:
    session = Session(engine)
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_db)]
"""
# a helper typed `-> Session` that opens none: no provider of the stack
CONTEXT = """
from contextvars import ContextVar

from sqlmodel import Session

_current: ContextVar[Session | None] = ContextVar("s", default=None)


def current_session() -> Session:
    return _current.get()
"""
MODELS = """
from sqlmodel import Field, SQLModel


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
"""
HEROES = """
from fastapi import APIRouter
from sqlmodel import func, select

from db import SessionDep
from models import Hero

router = APIRouter()


@router.post("/heroes")
def create_hero(name: str, session: SessionDep):
    session.add(Hero(name=name))
    return {"ok": True}


@router.get("/heroes/count")
def count_heroes(session: SessionDep):
    return {"n": session.exec(select(func.count(Hero.id))).one()}
"""
MAIN = """
from fastapi import FastAPI

from api import heroes

app = FastAPI()
app.include_router(heroes.router)
"""
SCRIPT = """
import asyncio
import json

from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, select

import db
from main import app
from models import Hero

SQLModel.metadata.drop_all(db.engine)
SQLModel.metadata.create_all(db.engine)
with TestClient(app) as client:
    made = client.post("/heroes", params={"name": "ann"}).json()
    count = client.get("/heroes/count").json()
asyncio.run(db.async_engine.dispose())
with Session(db.engine) as s:
    stored = list(s.exec(select(Hero.name)))
SQLModel.metadata.drop_all(db.engine)
print(json.dumps({"made": made, "count": count, "stored": stored}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_dependency_opening_session_by_hand_migrates_and_commits(cli, project, kind):
    root = project({
        "db.py": dedent(DB), "context.py": dedent(CONTEXT), "models.py": dedent(MODELS), "main.py": dedent(MAIN),
        "api/__init__.py": "", "api/heroes.py": dedent(HEROES),
    })
    document = apply(cli, root, subsystem="api/heroes.py")
    assert document["subsystem"]["global_blockers"] == [], document["subsystem"]
    for name in ("create_hero", "count_heroes"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "async_engine = create_async_engine(_async_url(engine.url))" in read(root, "db.py")
    result = run_app(root, kind, dedent(SCRIPT), pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",))
    assert result == {"made": {"ok": True}, "count": {"n": 1}, "stored": ["ann"]}
