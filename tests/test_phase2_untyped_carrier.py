"""A route doing Session work of its own that calls a helper working on `request.state.db`,
which the sync session dependency and its async form written by hand both set (one a Session,
the other the AsyncSession). Phase two migrated the route: the helper then called
`request.state.db.execute(...)` on the AsyncSession without await, and its row was never
written (200 all the same). It now blocks the route (AM272); a helper given the route's Session
as a parameter still migrates. Both RUN on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import ITEM_MODELS
from sample import database, run_python
from test_phase2_rules import apply, dedent, handler, read

DB = """
import os

from fastapi import Request
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SessionRW = sessionmaker(engine, expire_on_commit=False)
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql+psycopg": "postgresql+psycopg"}
async_engine = create_async_engine(engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername]))
AsyncSessionRW = async_sessionmaker(async_engine, expire_on_commit=False)


def get_write_db(request: Request):
    db = SessionRW()
    request.state.db = db
    try:
        yield db
    finally:
        db.close()


async def get_async_write_db(request: Request):
    async with AsyncSessionRW() as db:
        request.state.db = db
        yield db
"""
MODELS = ITEM_MODELS
ITEMS = """
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db import get_write_db
from models import Item

router = APIRouter()
WriteDB = Annotated[Session, Depends(get_write_db)]


def audit(request: Request, what: str) -> None:
    request.state.db.execute(insert(Item).values(name=f"audit:{what}"))


def audit_on(db: Session, what: str) -> None:
    db.execute(insert(Item).values(name=f"audit:{what}"))


@router.post("/items")
async def add(name: str, request: Request, db: WriteDB):
    db.add(Item(name=name))
    audit(request, name)
    db.commit()
    return {"ok": True}


@router.post("/items/passed")
async def add_passed(name: str, db: WriteDB):
    db.add(Item(name=name))
    audit_on(db, name)
    db.commit()
    return {"ok": True}


@router.get("/items")
async def items(db: WriteDB):
    return [i.name for i in db.scalars(select(Item).order_by(Item.id))]
"""
MAIN = """
from fastapi import FastAPI

from api import items

app = FastAPI()
app.include_router(items.router)
"""
SERVE = """
import json

from fastapi.testclient import TestClient

from db import engine
from main import app
from models import Base

Base.metadata.drop_all(engine)
Base.metadata.create_all(engine)
with TestClient(app) as client:
    codes = [client.post("/items", params={"name": "cup"}).status_code,
             client.post("/items/passed", params={"name": "mug"}).status_code]
    print(json.dumps([codes, client.get("/items").json()]))
"""
EXPECTED = [[200, 200], ["cup", "audit:cup", "mug", "audit:mug"]]


def serve(root: Path, url: str) -> object:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "PYTHONPATH": str(root), "DATABASE_URL": url,
    }
    result = run_python(dedent(SERVE), cwd=root, env=env, timeout=180, warnings=("error::RuntimeWarning",))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "never awaited" not in result.stderr, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_route_calling_a_helper_on_request_state_it_cannot_type_stays_synchronous(cli, project, kind):
    root = project({
        "db.py": DB, "models.py": MODELS, "api/__init__.py": "", "api/items.py": ITEMS, "main.py": MAIN,
    })
    with database(kind, "untyped") as url:
        url = url or f"sqlite:///{root / 'app.db'}"
        assert serve(root, url) == EXPECTED
        document = apply(cli, root, "--allow-override-gap", subsystem="api/items.py")
        found = handler(document, "add")
        assert found["action"] == "blocked" and found["codes"] == ["AM272"], found
        assert "calls audit -> `request.state.db.execute()`" in found["reasons"][0], found
        # near miss: the helper given the route's Session moves with it
        for name in ("add_passed", "items"):
            assert handler(document, name)["action"] == "migrate", handler(document, name)
        text = read(root, "api/items.py")
        assert "async def add(name: str, request: Request, db: WriteDB):" in text, text
        assert "await audit_on(db, name)" in text or "await audit_on_async(db, name)" in text, text
        assert serve(root, url) == EXPECTED


CONTEXT_DB = """
import os
from contextvars import ContextVar

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SessionRW = sessionmaker(engine, expire_on_commit=False)
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql+psycopg": "postgresql+psycopg"}
async_engine = create_async_engine(engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername]))
AsyncSessionRW = async_sessionmaker(async_engine, expire_on_commit=False)
db_session: ContextVar = ContextVar("db_session")


async def get_write_db():
    with SessionRW() as session:
        token = db_session.set(session)
        try:
            yield session
        finally:
            db_session.reset(token)


async def get_async_write_db():
    async with AsyncSessionRW() as session:
        token = db_session.set(session)
        try:
            yield session
        finally:
            db_session.reset(token)
"""
CONTEXT_ITEMS = (
    ITEMS.replace("from db import get_write_db", "from db import db_session, get_write_db")
    .replace("from fastapi import APIRouter, Depends, Request", "from fastapi import APIRouter, Depends")
    .replace("def audit(request: Request, what: str) -> None:\n    request.state.db.execute(",
             "def audit(what: str) -> None:\n    db_session.get().execute(")
    .replace("async def add(name: str, request: Request, db: WriteDB):", "async def add(name: str, db: WriteDB):")
    .replace("    audit(request, name)", "    audit(name)")
)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_helper_on_a_context_variable_both_dependencies_set_keeps_its_route_synchronous(cli, project, kind):
    """The sync session dependency and the async one written by hand both set `db_session` to
    their Session, the same statements: the async one covers the sync one's (the ContextVar's
    token is no Session, AM271 blocked the whole subsystem), so the routes migrate, but not the
    one calling a helper on `db_session.get()`, which would then hold the AsyncSession (AM272)."""
    root = project({
        "db.py": CONTEXT_DB, "models.py": MODELS, "api/__init__.py": "", "api/items.py": CONTEXT_ITEMS,
        "main.py": MAIN,
    })
    with database(kind, "untyped") as url:
        url = url or f"sqlite:///{root / 'app.db'}"
        assert serve(root, url) == EXPECTED
        document = apply(cli, root, "--allow-override-gap", subsystem="api/items.py")
        found = handler(document, "add")
        assert found["action"] == "blocked" and found["codes"] == ["AM272"], found
        assert "calls audit -> `db_session.get().execute()`" in found["reasons"][0], found
        for name in ("add_passed", "items"):
            assert handler(document, name)["action"] == "migrate", handler(document, name)
        # The routes reach the hand-written async dependency (through an alias beside it, in db.py).
        assert "Depends(get_async_write_db)" in read(root, "api/items.py") + read(root, "db.py")
        assert "get_async_db_session" not in read(root, "api/items.py") + read(root, "db.py")  # none generated
        assert serve(root, url) == EXPECTED
