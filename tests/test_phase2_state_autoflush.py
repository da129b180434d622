"""AM326 where the synchronous sessionmaker is built at startup and kept on the application's state.

The sync sessionmaker is `sessionmaker(bind=engine, autoflush=False)`, built in the lifespan (by a
project factory, or in place) and kept on `app.state`; the session dependency opens
`request.app.state.sessionmaker()`. The reused async stack autoflushes. Phase two used to find no
sync sessionmaker to compare with and migrated the route: code that adds an object and then counts
counted the pending one too, and committed another value with a 200. Each test applies phase two
and RUNS the result: blocked, the route still writes what it wrote; with the same autoflush, the
migrated route writes it too; an `autoflush` phase two cannot read blocks, naming both sides.
"""

from __future__ import annotations

import pytest
from test_phase2_reused_autoflush import NUMBERED, SCRIPT
from test_phase2_rules import apply, dedent, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, imported for the tests below

ENGINE = """
import os
from collections.abc import AsyncIterator, Iterator

from fastapi import Request
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
# the tests' own, to read back what the routes wrote
database_sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)


def make_sessionmaker(bind) -> sessionmaker[Session]:
    return sessionmaker(bind=bind, SYNC_OPTIONS)


def get_db_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessionmaker() as session:
        yield session


async_engine = create_async_engine(
    os.environ["DATABASE_URL"].replace("sqlite://", "sqlite+aiosqlite://")
    .replace("postgresql://", "postgresql+psycopg://").replace("mysql+pymysql://", "mysql+aiomysql://")
)
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=FalseOPTIONS)


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
"""
MAINS = {
    # `app.state.sessionmaker = make_sessionmaker(engine)`: a project factory returning it
    "factory": """
        from contextlib import asynccontextmanager

        from fastapi import FastAPI

        from api.items import router
        from db.engine import engine, make_sessionmaker


        @asynccontextmanager
        async def lifespan(app: FastAPI):
            app.state.sessionmaker = make_sessionmaker(engine)
            yield


        app = FastAPI(lifespan=lifespan)
        app.include_router(router)
        """,
    # built in the lifespan itself, through a local name
    "in place": """
        from contextlib import asynccontextmanager

        from fastapi import FastAPI
        from sqlalchemy.orm import sessionmaker

        from api.items import router
        from db.engine import engine


        @asynccontextmanager
        async def lifespan(app: FastAPI):
            maker = sessionmaker(bind=engine, SYNC_OPTIONS)
            app.state.sessionmaker = maker
            yield


        app = FastAPI(lifespan=lifespan)
        app.include_router(router)
        """,
}
SYNC = "autoflush=False, expire_on_commit=False"
# which database the state-kept sessionmaker reaches is the configuration's word (AM243)
CONFIG = """
[tool.async-migrate]
async-dependency = "get_async_db_session"
"""


def build(service, shape: str, sync: str, reused: str):  # type: ignore[no-untyped-def]
    return service({
        SUBSYSTEM: routes(NUMBERED),
        "db/engine.py": dedent(ENGINE).replace("SYNC_OPTIONS", sync).replace("OPTIONS", reused),
        "main.py": dedent(MAINS[shape]).replace("SYNC_OPTIONS", sync),
        "pyproject.toml": CONFIG,
    })


@pytest.mark.parametrize("shape", sorted(MAINS))
@pytest.mark.parametrize("kind", KINDS)
def test_a_state_kept_sessionmaker_without_autoflush_blocks_against_an_autoflushing_stack(cli, service, kind, shape):
    root = build(service, shape, SYNC, "")
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked" and "AM326" in found["codes"], str(found)
    reason = " ".join(found["reasons"]) if "reasons" in found else str(found)
    assert "`get_db_session`" in reason and "request.app.state.sessionmaker" in reason, reason
    assert "does not autoflush" in reason and "which autoflushes" in reason, reason
    assert function(root, SUBSYSTEM, "add_item").startswith("def add_item(name: str, db: Session")
    assert serve(root, kind, SCRIPT) == {"status": [200, 200], "names": ["a-0", "b-1"]}


@pytest.mark.parametrize("shape", sorted(MAINS))
@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_state_kept_sessionmaker_with_the_same_autoflush_migrates(cli, service, kind, shape):
    root = build(service, shape, SYNC, ", autoflush=False")
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", str(document["handlers"])
    assert function(root, SUBSYSTEM, "add_item").startswith("async def add_item(name: str, db: AsyncSession")
    assert serve(root, kind, SCRIPT) == {"status": [200, 200], "names": ["a-0", "b-1"]}


@pytest.mark.parametrize("shape", sorted(MAINS))
def test_an_autoflush_phase_two_cannot_read_is_unknown_and_blocks(cli, service, shape):
    # `autoflush=FLUSH` from the environment: it may be either, so it is never taken as the async one's
    sync = 'autoflush=os.environ.get("FLUSH") == "1", expire_on_commit=False'
    root = build(service, shape, sync, ", autoflush=False")
    if shape == "in place":
        (root / "main.py").write_text("import os\n" + (root / "main.py").read_text())
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked" and "AM326" in found["codes"], str(found)
    reason = str(found)
    assert "cannot tell whether the two autoflush alike" in reason, reason
    assert "`get_async_db_session`" in reason and "`get_db_session`" in reason, reason
    assert "autoflush=os.environ.get" in reason, reason
    assert function(root, SUBSYSTEM, "add_item").startswith("def add_item(name: str, db: Session")


ASYNC_ON_STATE = """
async def get_async_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.async_sessionmaker() as session:
        yield session
"""


@pytest.mark.parametrize("reused, action", [("", "blocked"), (", autoflush=False", "migrate")])
@pytest.mark.parametrize("kind", KINDS)
def test_both_stacks_kept_on_the_state_are_compared(cli, service, kind, reused, action):
    # the async maker too is built at startup: `app.state.async_sessionmaker = async_sessionmaker(...)`
    root = build(service, "factory", SYNC, reused)
    engine = (root / "db/engine.py").read_text()
    head, _, _ = engine.partition("async def get_async_db_session")
    (root / "db/engine.py").write_text(head + dedent(ASYNC_ON_STATE).lstrip())
    main = (root / "main.py").read_text().replace(
        "from db.engine import engine, make_sessionmaker",
        "from db.engine import async_engine, engine, make_sessionmaker\n"
        "from sqlalchemy.ext.asyncio import async_sessionmaker",
    ).replace(
        "    yield",
        f"    app.state.async_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False{reused})\n"
        "    yield",
    )
    (root / "main.py").write_text(main)
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == action, str(found)
    if action == "blocked":
        assert "AM326" in found["codes"] and "request.app.state.async_sessionmaker" in str(found), found
    assert serve(root, kind, SCRIPT) == {"status": [200, 200], "names": ["a-0", "b-1"]}
