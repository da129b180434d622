"""Which test fixtures dispose of the async engine, for phase two's per-test `TestClient` follow-up.

A fixture entering a new `TestClient` per test runs each test on an event loop of its own, and on
MariaDB (aiomysql) the second test fails ("attached to a different loop") unless the async engine
is disposed of when the client closes. Any `.dispose` in the fixture silenced the follow-up, the
synchronous `engine.dispose()` too, which leaves the async pool as it was: the migrated suite then
failed on MariaDB with no word from phase two. A disposal made in a helper the fixture calls
(`close_pools(c)` running `c.portal.call(db.async_engine.dispose)`) was not seen, and the
follow-up asked for what the suite already does. Now a disposal counts when it is awaited or handed
on (to the portal, `asyncio.run`), in the fixture or in the project functions it calls."""

from __future__ import annotations

import json
import os
from pathlib import Path
from textwrap import dedent

import pytest
from phase2_kit import KINDS
from sample import database, run_python

MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
"""
DB = """
import os
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


def get_db() -> Iterator[Session]:
    with SessionLocal() as db:
        yield db


DbSession = Annotated[Session, Depends(get_db)]
"""
ITEMS = """
from fastapi import APIRouter
from sqlalchemy import select

from db import DbSession
from models import Item

router = APIRouter(prefix="/items")


@router.get("")
async def list_items(db: DbSession):
    return [i.name for i in db.scalars(select(Item).order_by(Item.id))]


@router.post("", status_code=201)
async def add_item(name: str, db: DbSession):
    db.add(Item(name=name))
    db.commit()
"""
MAIN = """
from fastapi import FastAPI

import items

app = FastAPI()
app.include_router(items.router)
"""
CONFTEST = """
import pytest
from fastapi.testclient import TestClient

import db
from main import app
from models import Base


def close_pools(client: TestClient) -> None:
    {close}


@pytest.fixture
def client():
    Base.metadata.drop_all(db.engine)
    Base.metadata.create_all(db.engine)
    with TestClient(app) as c:
        yield c
        {inside}
    {after}
"""
TESTS = """
def test_add(client):
    assert client.post("/items", params={"name": "a"}).status_code == 201
    assert client.get("/items").json() == ["a"]


def test_add_again(client):
    assert client.post("/items", params={"name": "b"}).status_code == 201
    assert client.get("/items").json() == ["b"]
"""
SYNC_ONLY = "db.engine.dispose()"
ASYNC_ONLY = "client.portal.call(db.async_engine.dispose)"
SCRIPT = dedent("""
    import json, os, sys
    import pytest
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session
    from models import Item

    code = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "tests"])
    engine = create_engine(os.environ["DATABASE_URL"])
    with Session(engine) as session:
        stored = list(session.scalars(select(Item.name).order_by(Item.id)))
    engine.dispose()
    print(json.dumps({"code": int(code), "stored": stored}))
""")


def tree(project, close: str, inside: str = "pass", after: str = "pass") -> Path:  # type: ignore[no-untyped-def]
    conftest = CONFTEST.replace("{close}", close).replace("{inside}", inside).replace("{after}", after)
    return project({
        "models.py": MODELS,
        "db.py": DB,
        "items.py": ITEMS,
        "main.py": MAIN,
        "tests/__init__.py": "",
        "tests/conftest.py": conftest,
        "tests/test_items.py": TESTS,
    })


def migrate(cli, root: Path) -> list[str]:  # type: ignore[no-untyped-def]
    document = cli.json("phase2", root, "-s", "items.py", "--apply")
    actions = {h["function"]: h["action"] for h in document["handlers"]}
    assert actions == {"list_items": "migrate", "add_item": "migrate"}, document["handlers"]
    return [n for n in document["subsystem"]["follow_ups"] if "TestClient" in n]


def suite(root: Path, kind: str) -> dict:
    with database(kind, "fixturedispose") as url:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
            "PYTHONPATH": str(root),
            "DATABASE_URL": url or f"sqlite:///{root / 'app.db'}",
        }
        result = run_python(SCRIPT, cwd=root, env=env)
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", KINDS)
def test_a_fixture_disposing_only_the_sync_engine_gets_the_follow_up_which_followed_runs(cli, project, kind):
    root = tree(project, close=SYNC_ONLY, after=SYNC_ONLY)
    [note] = migrate(cli, root)
    assert note.startswith("tests/conftest.py:14: the fixture `client` enters a new `TestClient(...)`"), note
    if kind == "mariadb":
        # what the follow-up is for: the second test meets a connection of the first test's loop
        assert suite(root, kind)["code"] != 0
    # the follow-up, followed as written
    conftest = root / "tests" / "conftest.py"
    advice = "c.portal.call(db.async_engine.dispose)"
    conftest.write_text(conftest.read_text(encoding="utf-8").replace("        pass\n", f"        {advice}\n"),
                        encoding="utf-8")
    assert suite(root, kind) == {"code": 0, "stored": ["b"]}


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_helper_disposing_of_the_async_engine_gets_none_and_the_suite_runs(cli, project, kind):
    root = tree(project, close=ASYNC_ONLY, inside="close_pools(c)")
    assert migrate(cli, root) == []
    assert suite(root, kind) == {"code": 0, "stored": ["b"]}


def test_a_helper_disposing_only_the_sync_engine_gets_the_follow_up(cli, project):
    root = tree(project, close=SYNC_ONLY, inside="close_pools(c)")
    assert len(migrate(cli, root)) == 1


# A new-user trial: the application's lifespan already disposed of the async engine the routes
# move onto, and a fixture entering `with TestClient(app)` runs it; the follow-up still asked the
# fixture to dispose of it. Another async engine's disposal (an analytics stack's) is no such thing.
HAND_WRITTEN = """

from sqlalchemy.ext.asyncio import create_async_engine

_ASYNC = {"sqlite": "sqlite+aiosqlite", "postgresql+psycopg": "postgresql+psycopg", "mysql+pymysql": "mysql+aiomysql"}
async_engine = create_async_engine(engine.url.set(drivername=_ASYNC.get(engine.url.drivername, engine.url.drivername)))
analytics_engine = create_async_engine("sqlite+aiosqlite://")
"""
LIFESPAN_MAIN = """
from contextlib import asynccontextmanager

from fastapi import FastAPI

import db
import items


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield
    await db.{engine}.dispose()


app = FastAPI(lifespan=lifespan)
app.include_router(items.router)
"""


def lifespan_tree(project, engine: str) -> Path:  # type: ignore[no-untyped-def]
    root = tree(project, close="pass")
    (root / "db.py").write_text(DB + HAND_WRITTEN, encoding="utf-8")
    (root / "main.py").write_text(LIFESPAN_MAIN.replace("{engine}", engine), encoding="utf-8")
    return root


@pytest.mark.parametrize("kind", KINDS)
def test_a_lifespan_disposing_of_the_reused_async_engine_gets_no_follow_up_and_the_suite_runs(cli, project, kind):
    root = lifespan_tree(project, "async_engine")
    assert migrate(cli, root) == []
    assert suite(root, kind) == {"code": 0, "stored": ["b"]}


def test_near_miss_a_lifespan_disposing_of_another_async_engine_keeps_the_follow_up(cli, project):
    root = lifespan_tree(project, "analytics_engine")
    [note] = migrate(cli, root)
    assert note.startswith("tests/conftest.py:14: the fixture `client` enters a new `TestClient(...)`"), note
