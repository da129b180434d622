"""AM301 through a Session opened in a worker thread (`db = await run_in_threadpool(SessionLocal)`).

The name holds what the sessionmaker returns: Session work on it on the loop blocks, whether
the route does it or an `@asynccontextmanager` opener yields it (its own commit and close
offloaded too) and the route works on what it yields. `check` said nothing of either, and
phase one called them free of Session work. Work on it handed to the threadpool stays clean.
"""

from __future__ import annotations

SCOPE = """
from contextlib import asynccontextmanager

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from db.engine import database_sessionmaker


@asynccontextmanager
async def session_scope():
    db = await run_in_threadpool(database_sessionmaker)
    try:
        yield db
        await run_in_threadpool(db.commit)
    finally:
        await run_in_threadpool(db.close)


def count(db: Session) -> int:
    return db.execute("select 1").scalar()
"""

ROUTES = """
import asyncio

from starlette.concurrency import run_in_threadpool

from db.engine import database_sessionmaker
from services.scope import count, session_scope


@router.get("/scoped")
async def scoped():
    async with session_scope() as db:
        return {"n": count(db)}


@router.get("/opened")
async def opened():
    db = await asyncio.to_thread(database_sessionmaker)
    try:
        return {"n": db.execute("select 1").scalar()}
    finally:
        await run_in_threadpool(db.close)


@router.get("/offloaded")
async def offloaded():
    db = await run_in_threadpool(database_sessionmaker)
    try:
        return {"n": await run_in_threadpool(count, db)}
    finally:
        await run_in_threadpool(db.close)
"""


def test_session_work_on_a_session_opened_in_a_worker_thread_is_am301(app, findings, reported):
    root = app(ROUTES, {"services/__init__.py": "", "services/scope.py": SCOPE})
    for route, line in (("scoped", "with session_scope() as db"), ("opened", "db.execute()")):
        found = findings(root, route)
        assert [f["code"] for f in found] == ["AM301"], (route, found)
        assert line in found[0]["message"], found
        # the opener's own opening, commit and close run in the threadpool: not where it blocks
        assert "services/scope.py" not in found[0]["message"], found
        assert reported(root, route, "phase1")["action"] == "keep", route
    # near miss: every use of that Session handed to the threadpool as well
    assert findings(root, "offloaded") == []
