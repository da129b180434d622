"""Phase two on a stack held by a module-level instance (`db = Database(url)`, whose engine,
and maybe sessionmaker, are attributes set in `__init__`), subsystem after subsystem.

As in test_phase2_soundness: the application is migrated with `phase2 --apply`, then RUN
with TestClient, and the database is read back through a separate synchronous session.
"""

from __future__ import annotations

import os
from pathlib import Path

from conftest import ITEM_MODELS
from sample import run_json
from test_phase2_rules import apply, dedent, handler, read, run

MODELS = ITEM_MODELS
# The sessionmaker at module level, bound to the instance's engine (trial B, min/c).
MODULE_MAKER = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker


class Database:
    def __init__(self, url):
        self.engine = create_engine(url)


db = Database(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(bind=db.engine)


def get_db():
    with SessionLocal() as s:
        yield s
        s.commit()
"""
# The sessionmaker an attribute of the instance too, and a dependency that commits, rolls back
# and closes by hand (trial B, min/a and its service).
INSTANCE_MAKER = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker


class Database:
    def __init__(self, url):
        connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
        self.engine = create_engine(url, connect_args=connect_args)
        self.SessionLocal = sessionmaker(bind=self.engine, autoflush=False, expire_on_commit=False)


db = Database(os.environ["DATABASE_URL"])


def get_db():
    s = db.SessionLocal()
    try:
        yield s
        s.commit()
    except Exception:
        s.rollback()
        raise
    finally:
        s.close()
"""
ROUTER = """
from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.orm import Session

from db import get_db
from models import Item

router = APIRouter()


@router.post("/{name}")
def create_NAME(name: str, s: Session = Depends(get_db)):
    s.add(Item(name="NAME:" + name))
    if name == "fail":
        raise HTTPException(status_code=409)  # what it added is rolled back, never committed
    return {"ok": True}
"""
MAIN = """
from fastapi import FastAPI

import a
import b

app = FastAPI()
app.include_router(a.router, prefix="/a")
app.include_router(b.router, prefix="/b")
"""
SCRIPT = """
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import db as stack
from main import app
from models import Base, Item

Base.metadata.create_all(stack.db.engine)
with TestClient(app) as client:
    statuses = [client.post(path).status_code for path in ("/a/cup", "/b/pen", "/a/fail", "/b/fail")]
    if hasattr(stack, "async_engine"):
        client.portal.call(stack.async_engine.dispose)
with Session(stack.db.engine) as s:
    names = sorted(s.scalars(select(Item.name)))
print(json.dumps({"statuses": statuses, "names": names}))
"""


def build(project, db: str, **extra: str) -> Path:  # type: ignore[no-untyped-def]
    return project({
        **extra,
        "db.py": dedent(db),
        "models.py": dedent(MODELS),
        "a.py": dedent(ROUTER).replace("NAME", "a"),
        "b.py": dedent(ROUTER).replace("NAME", "b"),
        "main.py": dedent(MAIN),
    })


def serve(root: Path) -> object:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "PYTHONPATH": str(root),
        "DATABASE_URL": f"sqlite:///{root / 'app.db'}",
    }
    return run_json("import json\n" + dedent(SCRIPT), cwd=root, env=env, timeout=180)


EXPECTED = {"statuses": [200, 200, 409, 409], "names": ["a:cup", "b:pen"]}


# ------------------------------------------- 1. the generated stack, reused by the next subsystem


def test_the_second_subsystem_reuses_the_stack_the_first_generated(cli, project):
    root = build(project, MODULE_MAKER)
    first = apply(cli, root, subsystem="a.py")
    assert handler(first, "create_a")["action"] == "migrate", handler(first, "create_a")
    stack = read(root, "db.py")
    # built in `__init__`, out of the keywords' sight: its execution options are taken at runtime
    assert "_async_url(db.engine.url)" in stack and "execution_options=db.engine.get_execution_options()" in stack
    second = apply(cli, root, subsystem="b.py")
    assert handler(second, "create_b")["action"] == "migrate", handler(second, "create_b")
    assert read(root, "db.py").count("create_async_engine(") == 1  # reused, not a second stack
    assert "async def create_b(" in read(root, "b.py")
    assert serve(root) == EXPECTED


def test_near_miss_an_async_engine_on_another_instances_engine_still_blocks(cli, project):
    """`other.engine` is not `db.engine`: the reused stack might reach another database."""
    stack = dedent(MODULE_MAKER) + "\n\n\n" + dedent(
        """
        other = Database("sqlite:///other.db")
        async_engine = create_async_engine(str(other.engine.url).replace("sqlite://", "sqlite+aiosqlite://"))
        async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


        async def get_async_db_session():
            async with async_database_sessionmaker() as session:
                yield session
                await session.commit()
        """
    )
    stack = stack.replace(
        "from sqlalchemy.orm import sessionmaker\n",
        "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine\nfrom sqlalchemy.orm import sessionmaker\n",
        1,
    )
    root = build(project, stack)
    found = handler(run(cli, root, subsystem="a.py"), "create_a")
    assert found["action"] == "blocked" and "AM243" in found["codes"], found["reasons"]
    reason = found["reasons"][found["codes"].index("AM243")]
    assert "`db.engine`" in reason, reason  # the engine named as written
    assert serve(root) == EXPECTED  # unchanged, still synchronous


# ------------------------------------------- 2. a sessionmaker held by the instance


def test_a_sessionmaker_set_in_init_is_the_stack_subsystem_after_subsystem(cli, project):
    root = build(project, INSTANCE_MAKER)
    first = apply(cli, root, subsystem="a.py")
    assert handler(first, "create_a")["action"] == "migrate", handler(first, "create_a")
    stack = read(root, "db.py")
    # at module level after the instance, from its engine, with the sessionmaker's keywords
    assert stack.index("db = Database(") < stack.index("_async_url(db.engine.url)")
    assert "autoflush=False" in stack.split("async_sessionmaker(", 1)[1].split(")", 1)[0]
    second = apply(cli, root, subsystem="b.py")
    assert handler(second, "create_b")["action"] == "migrate", handler(second, "create_b")
    assert read(root, "db.py").count("create_async_engine(") == 1
    assert serve(root) == EXPECTED


def test_a_configured_held_sessionmaker_is_taken_and_an_unmatched_name_blocks(cli, project):
    configured = '[tool.async-migrate]\nsessionmakers = ["db.db.SessionLocal"]\n'
    root = build(project, INSTANCE_MAKER, **{"pyproject.toml": configured})
    assert handler(run(cli, root, subsystem="a.py"), "create_a")["action"] == "migrate"
    # the class's attribute is no name the project binds: said, never ignored
    (root / "pyproject.toml").write_text(configured.replace("db.db.", "db.Database."), encoding="utf-8")
    found = handler(run(cli, root, subsystem="a.py"), "create_a")
    assert found["action"] == "blocked" and found["codes"] == ["AM276"], found
    assert "`db.db.SessionLocal`" in found["reasons"][0], found["reasons"]


def test_near_miss_a_held_sessionmaker_bound_to_an_init_local_blocks(cli, project):
    """`sessionmaker(bind=engine)` with `engine` local to `__init__`: nothing at module level
    names that engine, so no async engine can be derived from it."""
    stack = dedent(INSTANCE_MAKER).replace(
        "self.engine = create_engine(url, connect_args=connect_args)",
        "engine = self.engine = create_engine(url, connect_args=connect_args)",
    ).replace("sessionmaker(bind=self.engine,", "sessionmaker(bind=engine,")
    root = build(project, stack)
    found = handler(run(cli, root, subsystem="a.py"), "create_a")
    assert found["action"] == "blocked" and "AM234" in found["codes"], found["reasons"]
    assert "`db.SessionLocal` is bound to `engine`" in found["reasons"][0], found["reasons"]
    assert serve(root) == EXPECTED
