"""A session dependency opening a project Session subclass on the engine, with no sessionmaker
(`with AppSession(engine) as session: yield session`), reads as the plain `Session(engine)` one:
the routes migrate (it blocked every one with AM271, "does more per request than open, yield and
commit its session"), and the generated async_sessionmaker keeps the class as
`sync_session_class=AppSession`, as it does for `sessionmaker(engine, class_=AppSession)`, so the
listeners registered on it still run. An async dependency written by hand opening
`AsyncSession(async_engine, sync_session_class=AppSession)` lets them migrate too, and a route
opening `AppSession(engine)` itself gets `AsyncSession(async_engine, sync_session_class=AppSession)`.
Each route is migrated and RUN on SQLite, PostgreSQL and MariaDB, and the rows are read back.
Near misses: a dependency that does more than open and yield the subclass still blocks (AM271),
and so does a hand-written async dependency running plain Sessions, which would lose the listeners (AM270)."""

from __future__ import annotations

from textwrap import dedent

import pytest
from phase2_kit import KINDS, run_app
from test_phase2_rules import apply, function, handler, read
from test_phase2_soundness import SUBSYSTEM, routes, service

__all__ = ["service"]  # the fixture, used by name

# The Session classes live apart from the engine: two levels of project subclassing.
SESSIONS = """
from sqlalchemy import event
from sqlalchemy.orm import Session

COMMITS = []


class AuditedSession(Session):
    pass


class AppSession(AuditedSession):
    pass


@event.listens_for(AppSession, "before_flush")
def _strip_names(session, flush_context, instances):
    from models import Item

    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Item):
            obj.name = obj.name.strip()


@event.listens_for(AppSession, "after_commit")
def _count(session):
    COMMITS.append(type(session).__name__)
"""
ENGINE = """
import os
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from db.sessions import AppSession

engine = create_engine(os.environ["DATABASE_URL"])


def get_db_session() -> Iterator[Session]:
    with AppSession(engine) as session:
        yield session
"""
HAND_ASYNC = ENGINE.replace("from db.sessions import AppSession\n", """\
from collections.abc import AsyncIterator

from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from db.sessions import AppSession
""") + """

def to_async_url(url: URL) -> URL:
    drivers = {"sqlite": "sqlite+aiosqlite", "mysql+pymysql": "mysql+aiomysql", "mariadb+pymysql": "mariadb+aiomysql"}
    return url.set(drivername=drivers.get(url.drivername, url.drivername))


async_engine = create_async_engine(to_async_url(engine.url))


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with AsyncSession(async_engine, expire_on_commit=False, sync_session_class=AppSession) as session:
        yield session
"""
MORE = ENGINE.replace("        yield session\n", "        session.info['tenant'] = 'a'\n        yield session\n")
ROUTES = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return {"id": item.id}


@router.get("/items/count")
def count_items(db: session_dependency):
    return {"n": db.scalar(select(func.count(Item.id)))}
"""
INLINE = """
from db.engine import engine
from db.sessions import AppSession


@router.post("/inline")
def create_inline(name: str):
    with AppSession(engine) as s:
        item = Item(name=name, owner_id=2)
        s.add(item)
        s.commit()
        return {"id": item.id}
"""
SCRIPT = """
import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import db.engine as stack
from db.engine import engine
from db.sessions import COMMITS
from main import app
from models import Base, Item, User

Base.metadata.drop_all(engine)
Base.metadata.create_all(engine)
with Session(engine) as s:
    s.add_all([User(id=1, name="Ann"), User(id=2, name="Bob")])
    s.commit()
client = TestClient(app)
client.__enter__()
posted = [client.post(PATH, params={"name": name}).status_code for name in ("  pen  ", " ink ")]
with Session(engine) as s:
    rows = sorted((i.name, i.owner_id) for i in s.scalars(select(Item)).all())
if hasattr(stack, "async_engine"):
    client.portal.call(stack.async_engine.dispose)
client.__exit__(None, None, None)
Base.metadata.drop_all(engine)
engine.dispose()
print(json.dumps({"posted": posted, "rows": rows, "commits": COMMITS}))
"""


def _serve(root, kind: str, path: str) -> object:  # type: ignore[no-untyped-def]
    return run_app(root, kind, dedent(SCRIPT).replace("PATH", repr(path)))


@pytest.mark.parametrize("kind", KINDS)
def test_a_dependency_opening_a_session_subclass_migrates_and_keeps_its_class(cli, service, kind):
    root = service({"db/sessions.py": SESSIONS, "db/engine.py": ENGINE, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name in ("create_item", "count_items"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "sync_session_class=AppSession" in read(root, "db/engine.py")
    result = _serve(root, kind, "/items")
    # before_flush stripped the names, after_commit ran for each route's AppSession
    assert result == {"posted": [200, 200], "rows": [["ink", 1], ["pen", 1]], "commits": ["AppSession"] * 2}


@pytest.mark.parametrize("kind", KINDS)
def test_a_hand_written_async_dependency_on_the_subclass_is_reused(cli, service, kind):
    root = service({"db/sessions.py": SESSIONS, "db/engine.py": HAND_ASYNC, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name in ("create_item", "count_items"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "Depends(get_async_db_session)" in read(root, "core/dependencies.py")  # the one written by hand
    result = _serve(root, kind, "/items")
    assert result == {"posted": [200, 200], "rows": [["ink", 1], ["pen", 1]], "commits": ["AppSession"] * 2}


@pytest.mark.parametrize("kind", KINDS)
def test_a_route_opening_the_subclass_on_the_engine_keeps_it_behind_the_async_session(cli, service, kind):
    root = service({"db/sessions.py": SESSIONS, "db/engine.py": ENGINE, SUBSYSTEM: routes(INLINE)})
    document = apply(cli, root)
    assert handler(document, "create_inline")["action"] == "migrate", handler(document, "create_inline")
    assert "async with AsyncSession(async_engine, sync_session_class=AppSession) as s:" in (
        function(root, SUBSYSTEM, "create_inline")
    )
    result = _serve(root, kind, "/inline")
    assert result == {"posted": [200, 200], "rows": [["ink", 2], ["pen", 2]], "commits": ["AppSession"] * 2}


def test_near_miss_a_hand_written_async_dependency_without_the_subclass_blocks(cli, service):
    plain = HAND_ASYNC.replace(", sync_session_class=AppSession", "")
    root = service({"db/sessions.py": SESSIONS, "db/engine.py": plain, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    entry = handler(document, "create_item")
    assert entry["action"] == "blocked" and "AM270" in entry["codes"], entry


def test_near_miss_a_dependency_doing_more_with_the_subclass_still_blocks(cli, service):
    root = service({"db/sessions.py": SESSIONS, "db/engine.py": MORE, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name in ("create_item", "count_items"):
        entry = handler(document, name)
        assert entry["action"] == "blocked" and "AM271" in entry["codes"], entry
