"""Phase two on a service with a primary, a read replica and a `RoutingSession` whose
`get_bind()` sends reads to the replica and writes to the primary (the SQLAlchemy docs' shape).
The routing sessionmaker blocks the subsystems whose routes reach it (AM278), and only those: a
router on the primary's own sessionmaker migrates, and its rows are RUN into the primary, on
SQLite files and on PostgreSQL databases, never into the replica.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from conftest import ITEM_MODELS
from sample import database, run_json
from test_phase2_rules import apply, dedent, handler, read, run

ENGINE = """
import os

from sqlalchemy import Delete, Insert, Update, create_engine
from sqlalchemy.orm import Session, sessionmaker

engine_rw = create_engine(os.environ["DATABASE_URL"])
engine_ro = create_engine(os.environ["REPLICA_URL"])
SessionRW = sessionmaker(engine_rw, expire_on_commit=False)


class RoutingSession(Session):
    def get_bind(self, mapper=None, clause=None, **kw):
        if self._flushing or isinstance(clause, (Insert, Update, Delete)):
            return engine_rw
        return engine_ro


RoutedSession = sessionmaker(class_=RoutingSession, expire_on_commit=False)


def get_write_db():
    with SessionRW() as session:
        yield session


def get_routed_db():
    with RoutedSession() as session:
        yield session
"""
DEPS = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_routed_db, get_write_db

WriteDB = Annotated[Session, Depends(get_write_db)]
RoutedDB = Annotated[Session, Depends(get_routed_db)]
"""
MODELS = ITEM_MODELS
ITEMS = """
from fastapi import APIRouter
from sqlalchemy import func, select

from db.deps import WriteDB
from models import Item

router = APIRouter()


@router.post("/items", status_code=201)
async def create(name: str, db: WriteDB):
    db.add(Item(name=name))
    db.commit()
    return {"ok": True}


@router.get("/items/count")
async def count(db: WriteDB):
    return {"n": db.scalar(select(func.count(Item.id)))}
"""
ROUTED = """
from fastapi import APIRouter
from sqlalchemy import func, select

from db.deps import RoutedDB
from models import Item

router = APIRouter()


@router.get("/routed/count")
async def routed_count(db: RoutedDB):
    return {"n": db.scalar(select(func.count(Item.id)))}


@router.post("/routed/items", status_code=201)
async def routed_create(name: str, db: RoutedDB):
    db.add(Item(name=name))
    db.commit()
    return {"ok": True}
"""
MAIN = """
from fastapi import FastAPI

from api import items, routed

app = FastAPI()
app.include_router(items.router)
app.include_router(routed.router)
"""
SERVE = """
import json

from fastapi.testclient import TestClient
from sqlalchemy import text

from db.engine import engine_ro, engine_rw
from main import app
from models import Base

for engine in (engine_rw, engine_ro):
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
with TestClient(app) as client:
    created = client.post("/items", params={"name": "cup"}).status_code
    routed = client.post("/routed/items", params={"name": "mug"}).status_code
    count = client.get("/items/count").json()
    replica = client.get("/routed/count").json()


def rows(engine):
    with engine.connect() as conn:
        return conn.execute(text("select name from items order by id")).scalars().all()


print(json.dumps({
    "created": [created, routed], "count": count, "replica_count": replica,
    "primary": rows(engine_rw), "replica": rows(engine_ro),
}))
"""
EXPECTED = {
    "created": [201, 201], "count": {"n": 2}, "replica_count": {"n": 0},
    "primary": ["cup", "mug"], "replica": [],
}


@contextlib.contextmanager
def two_databases(kind: str, root: Path):  # type: ignore[no-untyped-def]
    """The primary's and the replica's URLs: two SQLite files, or two scratch PostgreSQL
    databases (nothing replicates between them, so a row is seen where it was written)."""
    if kind == "sqlite":
        yield f"sqlite:///{root / 'primary.db'}", f"sqlite:///{root / 'replica.db'}"
        return
    with database(kind, "replica") as primary, database(kind, "replica") as replica:
        yield primary, replica


def serve(root: Path, urls: tuple[str, str]) -> object:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "PYTHONPATH": str(root), "DATABASE_URL": urls[0], "REPLICA_URL": urls[1],
    }
    return run_json(dedent(SERVE), cwd=root, env=env, timeout=180, warnings=("error::RuntimeWarning",))


def build(project):  # type: ignore[no-untyped-def]
    return project({
        "db/__init__.py": "",
        "db/engine.py": ENGINE,
        "db/deps.py": DEPS,
        "models.py": MODELS,
        "api/__init__.py": "",
        "api/items.py": ITEMS,
        "api/routed.py": ROUTED,
        "main.py": MAIN,
    })


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_router_on_the_primary_migrates_beside_a_routing_session_and_writes_the_primary(cli, project, kind):
    root = build(project)
    with two_databases(kind, root) as urls:
        assert serve(root, urls) == EXPECTED
        document = apply(cli, root, "--allow-override-gap", subsystem="api/items.py")
        for name in ("create", "count"):
            assert handler(document, name)["action"] == "migrate", handler(document, name)
        assert "await db.commit()" in read(root, "api/items.py")
        engine = read(root, "db/engine.py")
        assert "create_async_engine(_async_url(engine_rw.url))" in engine, engine
        assert "RoutedSession = sessionmaker(class_=RoutingSession" in engine
        assert read(root, "api/routed.py") == dedent(ROUTED) + "\n"
        # its generic names hide which database it stands for: the report says it
        said = [f for f in document["subsystem"]["follow_ups"] if "stands for `SessionRW`" in f]
        assert said and "not `RoutedSession`" in said[0], document["subsystem"]["follow_ups"]
        assert serve(root, urls) == EXPECTED


def test_a_router_reaching_the_routing_session_still_blocks_on_its_line(cli, project):
    root = build(project)
    document = run(cli, root, subsystem="api/routed.py")
    for name in ("routed_count", "routed_create"):
        found = handler(document, name)
        assert found["action"] == "blocked" and found["codes"] == ["AM278"], found
        assert found["reasons"][0].startswith("db/engine.py:18: the sessionmaker `RoutedSession` makes "), found
    assert document["files_changed"] == []


STATE_DEPS = DEPS + """

def request_db(request: Request) -> Session:
    return request.state.db


StateDB = Annotated[Session, Depends(request_db)]
"""
STATE_MAIN = MAIN.replace("from fastapi import FastAPI", "from fastapi import FastAPI, Request\n\nfrom db.engine import SessionRW") + """

@app.middleware("http")
async def state_session(request: Request, call_next):
    request.state.db = SessionRW()
    try:
        return await call_next(request)
    finally:
        request.state.db.close()
"""
STATE = """
from fastapi import APIRouter
from sqlalchemy import func, select

from db.deps import StateDB
from models import Item

router = APIRouter()


@router.get("/state/count")
async def state_count(db: StateDB):
    return {"n": db.scalar(select(func.count(Item.id)))}
"""


def test_a_router_on_the_middlewares_session_is_blocked_for_that_not_for_the_routing_session(cli, project):
    """Its routes open no Session (the dependency returns `request.state.db`): the block names the
    middleware's Session (AM264), not the routing sessionmaker only another router reaches."""
    root = project({
        "db/__init__.py": "",
        "db/engine.py": ENGINE,
        "db/deps.py": STATE_DEPS.replace("from fastapi import Depends", "from fastapi import Depends, Request"),
        "models.py": MODELS,
        "api/__init__.py": "",
        "api/items.py": ITEMS,
        "api/routed.py": ROUTED,
        "api/state.py": STATE,
        "main.py": STATE_MAIN.replace("from api import items, routed", "from api import items, routed, state")
        + "\napp.include_router(state.router)\n",
    })
    document = run(cli, root, subsystem="api/state.py")
    found = handler(document, "state_count")
    assert found["action"] == "blocked" and found["codes"] == ["AM264"], found
    assert "RoutingSession" not in found["reasons"][0], found
    assert document["files_changed"] == []


FACTORY_ENGINE = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine_rw = create_engine(os.environ["DATABASE_URL"])
engine_ro = create_engine(os.environ["REPLICA_URL"])
SessionRW = sessionmaker(engine_rw, expire_on_commit=False)
SessionRO = sessionmaker(engine_ro)


def make_db_dependency(maker):
    def dependency():
        with maker() as db:
            yield db

    return dependency


get_write_db = make_db_dependency(SessionRW)
get_read_db = make_db_dependency(SessionRO)
"""
FACTORY_DEPS = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_write_db

WriteDB = Annotated[Session, Depends(get_write_db)]
"""


def test_a_session_dependency_a_factory_builds_is_named_so_not_outside_path(cli, project):
    """`get_write_db = make_db_dependency(SessionRW)`: which sessionmaker it opens is not read, so
    the route stays synchronous, and the reason says why (it is in PATH)."""
    root = project({
        "db/__init__.py": "", "db/engine.py": FACTORY_ENGINE, "db/deps.py": FACTORY_DEPS, "models.py": MODELS,
        "api/__init__.py": "", "api/items.py": ITEMS, "main.py": MAIN.replace(", routed", "").replace(
            "app.include_router(routed.router)\n", ""),
    })
    document = run(cli, root, subsystem="api/items.py")
    found = handler(document, "create")
    assert found["action"] == "blocked", found
    reasons = " ".join(found["reasons"])
    assert (
        "gets its Session from `db.engine.get_write_db`, which the analysis cannot read (a value a call builds at "
        "run time)"
    ) in reasons, found
    assert "outside PATH" not in reasons, found
    assert document["files_changed"] == []
