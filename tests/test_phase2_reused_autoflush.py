"""A half-done hand migration: the async stack beside the sync one flushes otherwise (AM326).

The sync sessionmaker says `autoflush=False`; the hand-written `async_sessionmaker` does not.
Code that adds an object and then queries counts the pending object under the async one, and
commits another value. Each test applies phase two and RUNS the result: blocked, the route
still writes what it wrote; with the same autoflush, the migrated route writes it too.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, imported for the tests below

ENGINE = """
import os
from collections.abc import AsyncIterator, Iterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
database_sessionmaker = sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)

async_engine = create_async_engine(
    os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://")
    .replace("postgresql://", "postgresql+psycopg://").replace("mysql+pymysql://", "mysql+aiomysql://")
)
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=FalseOPTIONS)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""
NUMBERED = """
@router.post("/items")
def add_item(name: str, db: Session = Depends(get_db_session)):
    item = Item(name=name, owner_id=1)
    db.add(item)
    # items before this one: the pending item is not flushed yet
    before = db.scalar(select(func.count(Item.id)))
    item.name = f"{name}-{before}"
    db.commit()
    return {"id": item.id}
"""
SCRIPT = """
first = client.post("/items", params={"name": "a"})
second = client.post("/items", params={"name": "b"})
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)))
print(json.dumps({"status": [first.status_code, second.status_code], "names": names}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_an_async_stack_that_autoflushes_blocks_and_the_route_keeps_its_writes(cli, service, kind):
    root = service({SUBSYSTEM: routes(NUMBERED), "db/engine.py": dedent(ENGINE).replace("OPTIONS", "")})
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked" and "AM326" in found["codes"], found
    assert function(root, SUBSYSTEM, "add_item").startswith("def add_item(name: str, db: Session")
    assert serve(root, kind, SCRIPT) == {"status": [200, 200], "names": ["a-0", "b-1"]}


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_the_same_autoflush_migrates_and_writes_the_same(cli, service, kind):
    root = service({
        SUBSYSTEM: routes(NUMBERED), "db/engine.py": dedent(ENGINE).replace("OPTIONS", ", autoflush=False"),
    })
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", document["handlers"]
    assert function(root, SUBSYSTEM, "add_item").startswith("async def add_item(name: str, db: AsyncSession")
    assert serve(root, kind, SCRIPT) == {"status": [200, 200], "names": ["a-0", "b-1"]}
