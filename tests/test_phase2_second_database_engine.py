"""A read/write split on two databases: the read routes' async stack, migrated first, stands on
the replica; a "connect" listener on the primary's engine (SQLite foreign keys) needs an async
engine written by hand for the primary, with the listener registered on its `.sync_engine`, and
a configuration naming it. Phase two then builds the write routes' stack on that engine, leaving
the replica's sessionmaker and dependency alone, and the migrated route is RUN: the listener
still enforces the foreign key, and the row goes to the primary. When phase two generated the
replica's stack, the primary's reuses its driver-swapping function rather than adding another."""

from __future__ import annotations

from test_phase2_rules import apply, dedent, function, handler, read
from test_phase2_soundness import MAIN, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, imported for the tests below

ENGINE = """
import os
from collections.abc import AsyncIterator, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
replica_engine = create_engine(os.environ["DATABASE_URL"] + "-replica")


@event.listens_for(engine, "connect")
def _foreign_keys(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


database_sessionmaker = sessionmaker(engine, expire_on_commit=False)
read_sessionmaker = sessionmaker(replica_engine, expire_on_commit=False)

async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://") + "-replica")
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)

async_write_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))
event.listen(async_write_engine.sync_engine, "connect", _foreign_keys)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


def get_read_db() -> Iterator[Session]:
    with read_sessionmaker() as session:
        yield session


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""
WRITE = """
from sqlalchemy.exc import IntegrityError


@router.post("/items")
def add_item(name: str, owner_id: int, db: Session = Depends(get_db_session)):
    db.add(Item(name=name, owner_id=owner_id))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        return {"ok": False}
    return {"ok": True}
"""
CONFIG = """
[tool.async-migrate]
async-engine = "async_write_engine"
async-sessionmaker = "async_write_sessionmaker"
async-dependency = "get_async_write_db"
async-alias = "async_write_dependency"
"""
SCRIPT = """
ok = [client.post("/items", params={"name": n, "owner_id": o}).json()["ok"] for n, o in (("pen", 1), ("ink", 99))]
client.portal.call(stack.async_write_engine.dispose)
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)))
print(json.dumps({"ok": ok, "names": names}))
"""


def test_the_write_routes_get_a_stack_on_the_hand_written_engine_carrying_the_listener(cli, service):
    root = service({SUBSYSTEM: routes(WRITE), "db/engine.py": dedent(ENGINE), "pyproject.toml": dedent(CONFIG)})
    found = handler(apply(cli, root), "add_item")
    assert found["action"] == "migrate", found
    assert "Depends(get_async_write_db)" in function(root, SUBSYSTEM, "add_item")
    engine = read(root, "db/engine.py")
    assert "async_write_sessionmaker = async_sessionmaker(\n    async_write_engine," in engine, engine
    assert engine.count("create_async_engine(") == 2, engine  # no third engine
    assert serve(root, "sqlite", SCRIPT) == {"ok": [True, False], "names": ["pen"]}


TWO_ENGINES = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
replica_engine = create_engine(os.environ["DATABASE_URL"] + "-replica")
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)
read_sessionmaker = sessionmaker(replica_engine, expire_on_commit=False)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


def get_read_db() -> Iterator[Session]:
    with read_sessionmaker() as session:
        yield session
"""
READS = """
from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_read_db
from models import Item

router = APIRouter()


@router.get("/mirror")
def mirrored(db: Session = Depends(get_read_db)):
    return sorted(db.scalars(select(Item.name)))
"""
BOTH_SCRIPT = """
Base.metadata.create_all(stack.replica_engine)
with stack.read_sessionmaker() as s:
    s.add_all([User(id=1, name="Ann"), Item(name="mirror", owner_id=1)])
    s.commit()
added = client.post("/items", params={"name": "pen", "owner_id": 1}).json()
mirrored = client.get("/mirror").json()
client.portal.call(stack.async_write_engine.dispose)
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)))
Base.metadata.drop_all(stack.replica_engine)
print(json.dumps({"added": added, "mirrored": mirrored, "primary": names}))
"""


def test_the_second_generated_stack_reuses_the_first_ones_url_function(cli, service):
    root = service({
        SUBSYSTEM: routes(WRITE), "api/reads.py": dedent(READS), "db/engine.py": dedent(TWO_ENGINES),
        "main.py": dedent(MAIN) + "\nfrom api.reads import router as reads\n\napp.include_router(reads)\n",
        "second.toml": dedent(CONFIG),
    })
    assert handler(apply(cli, root, subsystem="api/reads.py"), "mirrored")["action"] == "migrate"
    found = handler(apply(cli, root, "--config", str(root / "second.toml")), "add_item")
    assert found["action"] == "migrate", found
    engine = read(root, "db/engine.py")
    assert engine.count("def _async_url") == 1, engine
    assert "async_write_engine = create_async_engine(_async_url(engine.url))" in engine, engine
    assert serve(root, "sqlite", BOTH_SCRIPT) == {"added": {"ok": True}, "mirrored": ["mirror"], "primary": ["pen"]}
