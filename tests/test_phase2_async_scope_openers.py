"""Phase two on `@asynccontextmanager` openers of a synchronous Session (`async with session_scope() as s:`).

Such an opener (an `async def` that still opens, commits and closes a synchronous Session) is
entered by routes and by worker tasks alike. It gets an `@asynccontextmanager` twin opening from the
async sessionmaker, the migrated routes enter the twin, and the worker's task keeps entering the
original. The migrated application is RUN on SQLite, PostgreSQL and MariaDB: the rows land, an
exception in the block rolls back, and the worker's task still writes. Openers doing more stay
blocked with the statement, never as a session dependency called like a function.
"""

from __future__ import annotations

import ast

import pytest
from test_phase2_rules import apply, function, handler, helper, read, run
from test_phase2_soundness import ENGINE, KINDS, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

OPENER = ENGINE + '''

import logging
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)


@asynccontextmanager
async def session_scope():
    session = database_sessionmaker()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


@asynccontextmanager
async def audited_scope():
    session = database_sessionmaker()
    try:
        yield session
        session.commit()
        log.info("committed")
    finally:
        session.close()
'''

CRUD = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Item


def count_items(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Item))
"""

# A worker stand-in: `@task` registers, `run_worker` drains the queue, running coroutines itself.
WORKER = """
import asyncio
import inspect

REGISTRY = {}
QUEUE = []


def task(fn):
    REGISTRY[fn.__name__] = fn
    return fn


def run_worker():
    while QUEUE:
        name, args = QUEUE.pop(0)
        result = REGISTRY[name](*args)
        if inspect.iscoroutine(result):
            asyncio.run(result)
"""

TASKS = """
import crud
from db.engine import session_scope
from models import Item
from worker import task


@task
async def import_item(name: str) -> None:
    async with session_scope() as s:
        s.add(Item(name=name, owner_id=2))
        s.flush()
        assert crud.count_items(s) > 0
"""

ROUTES = routes(
    """
    from fastapi import HTTPException

    import crud
    from db.engine import session_scope
    from worker import QUEUE
    """,
    """
    @router.post("/items")
    async def create_item(name: str):
        async with session_scope() as s:
            s.add(Item(name=name, owner_id=1))
        QUEUE.append(("import_item", (name + " (imported)",)))
        return {"ok": True}
    """,
    """
    @router.post("/items/failing")
    async def create_failing(name: str):
        async with session_scope() as s:
            s.add(Item(name=name, owner_id=1))
            s.flush()
            raise HTTPException(409, "refused")
    """,
    """
    @router.get("/items/count")
    async def count():
        async with session_scope() as s:
            return {"count": crud.count_items(s)}
    """,
)

SCRIPT = """
import tasks  # registers the worker's tasks
from worker import run_worker

created = client.post("/items", params={"name": "kept"})
failing = client.post("/items/failing", params={"name": "rolled back"})
counted = client.get("/items/count").json()
run_worker()
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)).all())
print(json.dumps({"created": created.status_code, "failing": failing.status_code, "counted": counted, "names": names}))
"""
EXPECTED = {"created": 200, "failing": 409, "counted": {"count": 1}, "names": ["kept", "kept (imported)"]}

SESSION_SCOPE_ASYNC = '''\
async def session_scope_async():
    session = async_database_sessionmaker()
    try:
        yield session
        await session.commit()
    except Exception:
        await session.rollback()
        raise
    finally:
        await session.close()'''


def _decorators(root, path: str, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    tree = ast.parse(read(root, path))
    found = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name)
    return [ast.unparse(d) for d in found.decorator_list]


def _files() -> dict[str, str]:
    return {"db/engine.py": OPENER, "crud.py": CRUD, "worker.py": WORKER, "tasks.py": TASKS, "api/items.py": ROUTES}


@pytest.mark.parametrize("kind", KINDS)
def test_routes_entering_an_asynccontextmanager_opener_move_to_its_twin_and_the_worker_keeps_the_original(
    cli, service, kind
):
    root = service(_files())
    assert serve(root, "sqlite", SCRIPT) == EXPECTED  # the synchronous application, as a baseline
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == dict.fromkeys(
        ["create_item", "create_failing", "count"], "migrate"
    )
    opener = helper(document, "session_scope")
    assert opener["action"] == "twin", opener
    assert "an `@asynccontextmanager` opener of a synchronous Session" in opener["reasons"][0], opener
    assert helper(document, "count_items")["action"] == "twin"  # the worker's task calls it too
    assert function(root, "db/engine.py", "session_scope_async") == SESSION_SCOPE_ASYNC
    assert _decorators(root, "db/engine.py", "session_scope_async") == ["asynccontextmanager"]
    assert function(root, "db/engine.py", "session_scope") in OPENER  # the original stays, for the worker
    assert function(root, "api/items.py", "create_failing") == (
        "async def create_failing(name: str):\n"
        "    async with session_scope_async() as s:\n"
        "        s.add(Item(name=name, owner_id=1))\n"
        "        await s.flush()\n"
        '        raise HTTPException(409, "refused")'
    )
    assert "return {'count': await crud.count_items_async(s)}" in ast.unparse(
        ast.parse(function(root, "api/items.py", "count"))
    )
    assert read(root, "tasks.py") == TASKS.lstrip("\n")  # the task enters the original, on the sync Session
    assert serve(root, kind, SCRIPT) == EXPECTED
    assert apply(cli, root)["files_changed"] == []  # a second run finds nothing left to do


def test_an_asynccontextmanager_opener_doing_more_stays_blocked_with_the_statement(cli, service):
    # near miss: the same opener with a log line after the commit gets no twin; the reason names
    # the statement, not "the session dependency ... called like a function" with `Depends(...)` as fix
    root = service({"db/engine.py": OPENER, "api/items.py": routes(
        "from db.engine import audited_scope",
        """
        @router.post("/items")
        async def create_item(name: str):
            async with audited_scope() as s:
                s.add(Item(name=name, owner_id=1))
            return {"ok": True}
        """,
    )})
    document = run(cli, root)
    blocked = handler(document, "create_item")
    assert blocked["action"] == "blocked" and "AM216" in blocked["codes"], blocked
    text = " ".join(blocked["reasons"])
    assert "its body does more than open, yield, commit, roll back and close its Session" in text, text
    assert "`log.info('committed')`" in text, text
    assert "session dependency" not in text and "Depends(audited_scope)" not in text, text
    assert document["files_changed"] == []


ASYNC_OPENER = ENGINE + '''

from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

async_engine = create_async_engine(os.environ.get("ASYNC_DATABASE_URL", "sqlite+aiosqlite:///./app.db"))
async_maker = async_sessionmaker(async_engine, expire_on_commit=False)


@asynccontextmanager
async def async_scope():
    session = async_maker()
    yield session
'''


def test_near_miss_an_asynccontextmanager_opening_an_async_session_gets_no_twin(cli, service):
    # Already on AsyncSession: nothing to twin, and the route awaiting its calls is no Session route
    # of the synchronous stack.
    root = service({"db/engine.py": ASYNC_OPENER, "api/items.py": routes(
        "from db.engine import async_scope",
        """
        @router.get("/items/count")
        async def count():
            async with async_scope() as s:
                return {"count": await s.scalar(select(func.count()).select_from(Item))}
        """,
    )})
    document = run(cli, root)
    assert "async_scope_async" not in document["diff"], document["diff"]
    assert not any(h["function"] == "async_scope" for h in document.get("subsystem", {}).get("helpers", [])), document
    assert handler(document, "count")["action"] != "migrate", handler(document, "count")
