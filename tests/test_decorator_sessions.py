"""A Session a project decorator opens and hands to the function it wraps (`@with_session`
passing `db=`), rather than a dependency: the decorated route does Session work through it.

The wrapper's call of the function it wraps reaches every function the decorator is applied
to, so `db` is the decorator's Session there: phase one converts a route under a decorator
that picks a plain wrapper for a plain function, keeps one under a wrapper that awaits it,
and `check` never reads either as doing no Session work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

DB = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

engine = create_engine(os.environ["DECO_DATABASE_URL"], connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
"""
DECORATORS = """
import functools
import inspect

from db import SessionLocal


def _without_db(fn):
    sig = inspect.signature(fn)
    return sig.replace(parameters=[p for p in sig.parameters.values() if p.name != "db"])


def with_session(fn):
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args, **kwargs):
            with SessionLocal() as db:
                return await fn(*args, db=db, **kwargs)

        async_wrapper.__signature__ = _without_db(fn)
        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with SessionLocal() as db:
            return fn(*args, db=db, **kwargs)

    wrapper.__signature__ = _without_db(fn)
    return wrapper


def awaited_session(fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        with SessionLocal() as db:
            return await fn(*args, db=db, **kwargs)

    wrapper.__signature__ = _without_db(fn)
    return wrapper
"""
MAIN = """
from fastapi import FastAPI
from sqlalchemy import func, select

from db import Item
from decorators import awaited_session, with_session

app = FastAPI()


@app.get("/items")
@with_session
async def list_items(db, prefix: str = ""):
    return [i.name for i in db.scalars(select(Item).order_by(Item.id)) if i.name.startswith(prefix)]


@app.get("/count")
@awaited_session
async def count_items(db):
    return {"count": db.scalar(select(func.count(Item.id)))}
"""
RUN = """
import json

from fastapi.testclient import TestClient

from db import Base, Item, SessionLocal, engine
from main import app

Base.metadata.drop_all(engine)
Base.metadata.create_all(engine)
with SessionLocal() as s:
    s.add_all([Item(name="apple"), Item(name="avocado"), Item(name="banana")])
    s.commit()
client = TestClient(app)
print(json.dumps({"items": client.get("/items", params={"prefix": "a"}).json(), "count": client.get("/count").json()}))
"""


def build(project) -> Path:  # type: ignore[no-untyped-def]
    return project({"db.py": DB, "decorators.py": DECORATORS, "main.py": MAIN})


def handler(document: dict, name: str) -> dict:
    return next(h for h in document["handlers"] if h["function"] == name)


def run(root: Path) -> dict:
    environment = {**os.environ, "DECO_DATABASE_URL": f"sqlite:///{root / 'deco.db'}"}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RUN)], cwd=root, capture_output=True, text=True, timeout=60,
        check=False, env=environment,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_session_the_decorator_passes_is_session_work(cli, project):
    root = build(project)
    document = cli.json("phase1", root)
    converted = handler(document, "list_items")
    assert converted["action"] == "convert"
    assert converted["reasons"][0] == "takes a synchronous Session handed in as `db` by decorator decorators.with_session and never awaits"
    kept = handler(document, "count_items")
    assert kept["action"] == "keep" and kept["codes"][0] == "AM110"
    findings = {f["function"]: f["code"] for f in cli.json("check", root)["findings"]}
    assert findings == {"list_items": "AM301", "count_items": "AM301"}


def test_the_converted_route_runs_under_the_decorator(cli, project):
    root = build(project)
    assert run(root) == {"items": ["apple", "avocado"], "count": {"count": 3}}
    assert cli("phase1", root, "--apply", "--allow-dirty").exit_code == 0
    assert "def list_items(db" in (root / "main.py").read_text() and "async def list_items" not in (root / "main.py").read_text()
    assert run(root) == {"items": ["apple", "avocado"], "count": {"count": 3}}
    findings = {f["function"] for f in cli.json("check", root)["findings"]}
    assert findings == {"count_items"}
