"""A route on a context value (a dataclass holding the request's Session beside the user) that
hands the Session inside a display to a helper (`audit({"db": ctx.db}, name)`), the helper taking it
apart (`d["db"].execute(...)`). Phase two migrated the route onto the async twin of the context:
the helper then called `execute` on the AsyncSession without await, and its row was never written
(200 all the same). The display's attribute path is read now: the helper's call on the item is
unverified and the route stays synchronous (AM272); a route handing `ctx.db` itself to a helper still
migrates. Both RUN on SQLite and PostgreSQL.
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
from dataclasses import dataclass

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(engine, expire_on_commit=False)


def get_db():
    with SessionLocal() as db:
        yield db


@dataclass(frozen=True)
class Ctx:
    db: Session
    user: str


def get_ctx(db: Session = Depends(get_db)) -> Ctx:
    return Ctx(db=db, user="alice")
"""
MODELS = ITEM_MODELS
ITEMS = """
from fastapi import APIRouter, Depends
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db import Ctx, get_ctx
from models import Item

router = APIRouter()


def insert_item(db: Session, name: str) -> None:
    db.execute(insert(Item).values(name=name))


def audit(d, what: str) -> None:
    d["x"].execute(insert(Item).values(name=f"audit:{what}"))


def commit(db: Session) -> None:
    db.commit()


def names(db: Session) -> list[str]:
    return [i.name for i in db.scalars(select(Item).order_by(Item.id))]


@router.post("/items")
def add(name: str, ctx: Ctx = Depends(get_ctx)):
    insert_item(ctx.db, name)
    audit({"x": ctx.db}, name)
    commit(ctx.db)
    return {"ok": True}


@router.post("/items/passed")
def add_passed(name: str, ctx: Ctx = Depends(get_ctx)):
    insert_item(ctx.db, name)
    insert_item(ctx.db, f"audit:{name}")
    commit(ctx.db)
    return {"ok": True}


@router.get("/items")
def items(ctx: Ctx = Depends(get_ctx)):
    return names(ctx.db)
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
def test_a_route_handing_its_context_session_inside_a_display_stays_synchronous(cli, project, kind):
    root = project({"db.py": DB, "models.py": MODELS, "api/__init__.py": "", "api/items.py": ITEMS, "main.py": MAIN})
    with database(kind, "am_ctx") as url:
        url = url or f"sqlite:///{root / 'app.db'}"
        assert serve(root, url) == EXPECTED
        document = apply(cli, root, subsystem="api/items.py")
        found = handler(document, "add")
        assert found["action"] == "blocked", found
        assert "calls audit -> `.execute()` is called on an item taken by subscript out of `d`" in found["reasons"][0], found
        # near miss: `ctx.db` handed to a helper itself moves with the route
        for name in ("add_passed", "items"):
            assert handler(document, name)["action"] == "migrate", handler(document, name)
        text = read(root, "api/items.py")
        assert "async def add_passed(" in text and "def add(name: str, ctx: Ctx = Depends(get_ctx)):" in text, text
        assert serve(root, url) == EXPECTED
