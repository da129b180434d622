"""A read/write split on one database: the read routes' sessionmaker makes a read-only Session
subclass, and their async stack, migrated first, keeps it (`sync_session_class=ReadOnlySession`).
The write routes' subsystem must not reuse that stack (AM327): every write would go through the
read-only class. Each test applies phase two and RUNS the result: blocked, the write route still
writes; with a configuration naming a stack of its own, it migrates onto one and writes too."""

from __future__ import annotations

from test_phase2_rules import apply, dedent, function, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, imported for the tests below

ENGINE = """
import os
from collections.abc import AsyncIterator, Iterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])


class ReadOnlySession(Session):
    def flush(self, objects=None):
        if self.new or self.dirty or self.deleted:
            raise RuntimeError("read-only session")
        super().flush(objects)


database_sessionmaker = sessionmaker(engine, expire_on_commit=False)
read_sessionmaker = sessionmaker(engine, class_=ReadOnlySession, expire_on_commit=False)

async_engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://"))
async_database_sessionmaker = async_sessionmaker(
    async_engine, expire_on_commit=False, sync_session_class=ReadOnlySession
)


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""
WRITE = """
@router.post("/items")
def add_item(name: str, db: Session = Depends(get_db_session)):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return {"id": item.id}
"""
SECOND_STACK = """
[tool.async-migrate]
async-engine = "async_write_engine"
async-sessionmaker = "async_write_sessionmaker"
async-dependency = "get_async_write_db"
async-alias = "async_write_dependency"
"""
SCRIPT = """
status = client.post("/items", params={"name": "pen"}).status_code
if hasattr(stack, "async_write_engine"):
    client.portal.call(stack.async_write_engine.dispose)
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)))
print(json.dumps({"status": status, "names": names}))
"""


def test_a_read_only_stack_is_not_reused_for_the_write_routes(cli, service):
    root = service({SUBSYSTEM: routes(WRITE), "db/engine.py": dedent(ENGINE)})
    found = handler(apply(cli, root), "add_item")
    assert found["action"] == "blocked" and "AM327" in found["codes"], found
    assert function(root, SUBSYSTEM, "add_item").startswith("def add_item(name: str, db: Session")
    assert serve(root, "sqlite", SCRIPT) == {"status": 200, "names": ["pen"]}


def test_a_stack_of_their_own_migrates_the_write_routes_and_they_write(cli, service):
    root = service({
        SUBSYSTEM: routes(WRITE), "db/engine.py": dedent(ENGINE), "pyproject.toml": dedent(SECOND_STACK),
    })
    found = handler(apply(cli, root), "add_item")
    assert found["action"] == "migrate", found
    assert "Depends(get_async_write_db)" in function(root, SUBSYSTEM, "add_item")
    assert serve(root, "sqlite", SCRIPT) == {"status": 200, "names": ["pen"]}
