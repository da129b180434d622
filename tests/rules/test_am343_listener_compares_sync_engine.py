"""AM343 listener-compares-sync-engine: a listener the async sessions run that tells the database
apart by comparing with the synchronous engine (`if session.bind is engine:` in an `after_commit`
on `Session`, `connection.engine == engine` in a mapper's `after_insert`) silently did nothing for
the migrated routes: their Session is bound to the async engine's `.sync_engine`. Phase two now
blocks naming the comparison. The fix it names (the async engine written by hand, compared with
as well) migrates, and the listener still runs for the migrated route on every database."""

from __future__ import annotations

import pytest
from phase2_kit import KINDS
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import ENGINE, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"ok": True}
"""
# Each listener writes a marker row (a User named "seen") only for this database's Sessions.
SESSION_LISTENER = '''
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from db.engine import engine
from models import User

SEEN = []


@event.listens_for(Session, "after_commit")
def _mark(session):
    if {compare}:
        SEEN.append("commit")
'''
MAPPER_LISTENER = '''
from sqlalchemy import event, insert

from db import engine as stack
from models import Item, User


@event.listens_for(Item, "after_insert")
def _mark(mapper, connection, target):
    if {compare}:
        connection.execute(insert(User).values(id=100 + target.id, name="seen"))
'''
MAIN = """
from fastapi import FastAPI

import events  # noqa: F401
from api.items import router

app = FastAPI()
app.include_router(router)
"""
HAND_WRITTEN = ENGINE.replace(
    "from sqlalchemy.orm import Session, sessionmaker",
    "from sqlalchemy.ext.asyncio import create_async_engine\nfrom sqlalchemy.orm import Session, sessionmaker",
) + '''

_ASYNC = {"sqlite": "sqlite+aiosqlite", "postgresql+psycopg": "postgresql+psycopg", "mysql+pymysql": "mysql+aiomysql"}
async_engine = create_async_engine(engine.url.set(drivername=_ASYNC.get(engine.url.drivername, engine.url.drivername)))
'''


def _root(service, listener: str, compare: str, engine: str = ENGINE):  # type: ignore[no-untyped-def]
    return service({
        "events.py": listener.replace("{compare}", compare),
        "main.py": MAIN,
        "db/engine.py": engine,
        SUBSYSTEM: routes(ROUTE),
    })


@pytest.mark.parametrize(("listener", "compare"), [
    (SESSION_LISTENER, "session.bind is engine"),
    (SESSION_LISTENER, "session.get_bind() in (engine,)"),
    (MAPPER_LISTENER, "connection.engine == stack.engine"),
])
def test_a_listener_comparing_with_the_sync_engine_blocks_naming_the_comparison(cli, service, listener, compare):
    root = _root(service, listener, compare)
    document = run(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked" and "AM343" in found["codes"], found
    line = next(n for n, t in enumerate(read(root, "events.py").splitlines(), 1) if compare in t)
    blockers = document["subsystem"]["global_blockers"]
    assert any(
        b.startswith(f"events.py:{line}: `{compare}` in `_mark`") and "async_engine.sync_engine" in b for b in blockers
    ), blockers


def test_near_miss_a_comparison_with_no_engine_migrates(cli, service):
    root = _root(service, SESSION_LISTENER, 'session.info.get("db") == "engine"')
    found = handler(run(cli, root), "create_item")
    assert found["action"] == "migrate" and "AM343" not in found["codes"], found


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_the_fix_migrates_and_the_listener_still_runs(cli, service, kind):
    root = _root(service, MAPPER_LISTENER, "connection.engine in (stack.engine, stack.async_engine.sync_engine)",
                 HAND_WRITTEN)
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "migrate" and "AM343" not in found["codes"], found
    assert "async def create_item" in read(root, SUBSYSTEM)
    result = serve(root, kind, """
        status = client.post("/items", params={"name": "pen"}).status_code
        with Sync() as s:
            items = s.scalars(select(Item.name)).all()
            seen = s.scalars(select(User.name).where(User.name == "seen")).all()
        print(json.dumps({"status": status, "items": items, "seen": len(seen)}))
    """)
    assert result == {"status": 200, "items": ["pen"], "seen": 1}, result
