"""Phase two on `@contextmanager` Session openers (`with session_scope() as s:`).

An opener doing only its Session's lifecycle gets an `@asynccontextmanager` twin opening from the
async sessionmaker; the migrated routes enter it with `async with`. The migrated application is
RUN (SQLite through aiosqlite, PostgreSQL through psycopg): the rows are written, an exception in
the block rolls everything back, and code that stays synchronous still enters the original. A
second run changes nothing. Openers doing more, and callers phase two cannot rewrite, stay
blocked with the reason.
"""

from __future__ import annotations

import ast

import pytest
from test_phase2_rules import apply, function, handler, helper, read, run
from test_phase2_soundness import ENGINE, KINDS, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

OPENERS = ENGINE + '''

import contextlib
from contextlib import contextmanager


@contextmanager
def session_scope():
    session = database_sessionmaker()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


@contextlib.contextmanager
def transaction() -> Iterator[Session]:
    """One transaction: committed on leaving the block, rolled back on an exception."""
    with database_sessionmaker.begin() as session:
        yield session


@contextmanager
def db_session():
    with database_sessionmaker() as session:
        yield session
'''

JOB = """
from db.engine import session_scope
from models import Item


def nightly(name: str) -> None:
    with session_scope() as s:
        s.add(Item(name=name, owner_id=1))
"""

ROUTES = routes(
    """
    from fastapi import HTTPException

    from db.engine import db_session, session_scope, transaction
    """,
    """
    @router.post("/items")
    async def create_item(name: str):
        with session_scope() as s:
            s.add(Item(name=name, owner_id=1))
        return {"ok": True}
    """,
    """
    @router.post("/items/failing")
    async def create_failing(name: str):
        with session_scope() as s:
            s.add(Item(name=name, owner_id=1))
            s.flush()
            raise HTTPException(409, "refused")
    """,
    """
    @router.post("/items/tx")
    def create_in_transaction(name: str):
        with transaction() as s:
            item = Item(name=name, owner_id=2)
            s.add(item)
            s.flush()
            return {"id": item.id}
    """,
    """
    @router.post("/items/tx/failing")
    async def create_in_failing_transaction(name: str):
        with transaction() as s:
            s.add(Item(name=name, owner_id=2))
            s.flush()
            raise HTTPException(409, "refused")
    """,
    """
    @router.get("/items/count")
    async def count_items():
        with db_session() as s:
            return {"count": s.scalar(select(func.count()).select_from(Item))}
    """,
)

SCRIPT = """
created = client.post("/items", params={"name": "kept"})
failing = client.post("/items/failing", params={"name": "rolled back"})
tx = client.post("/items/tx", params={"name": "in tx"})
tx_failing = client.post("/items/tx/failing", params={"name": "tx rolled back"})
counted = client.get("/items/count").json()
import jobs
jobs.nightly("from the job")
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)).all())
print(json.dumps({
    "created": created.status_code, "failing": failing.status_code, "tx": [tx.status_code, tx.json()["id"] > 0],
    "tx_failing": tx_failing.status_code, "counted": counted, "names": names,
}))
"""
EXPECTED = {
    "created": 200, "failing": 409, "tx": [200, True], "tx_failing": 409, "counted": {"count": 2},
    "names": ["from the job", "in tx", "kept"],
}

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
TRANSACTION_ASYNC = '''\
async def transaction_async() -> AsyncIterator[AsyncSession]:
    """One transaction: committed on leaving the block, rolled back on an exception."""
    async with async_database_sessionmaker.begin() as session:
        yield session'''


def _decorators(root, path: str, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    tree = ast.parse(read(root, path))
    found = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name)
    return [ast.unparse(d) for d in found.decorator_list]


@pytest.mark.parametrize("kind", KINDS[:2])
def test_routes_entering_a_contextmanager_opener_move_to_its_async_twin_and_the_rows_land(cli, service, kind):
    root = service({"db/engine.py": OPENERS, "jobs.py": JOB, "api/items.py": ROUTES})
    assert serve(root, "sqlite", SCRIPT) == EXPECTED  # the synchronous application, as a baseline
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == dict.fromkeys(
        ["create_item", "create_failing", "create_in_transaction", "create_in_failing_transaction", "count_items"],
        "migrate",
    )
    assert helper(document, "session_scope")["action"] == "twin"
    assert sorted(document["files_changed"]) == ["api/items.py", "db/engine.py"]
    # The twins, beside the originals, open from the async sessionmaker and await its calls.
    assert function(root, "db/engine.py", "session_scope_async") == SESSION_SCOPE_ASYNC
    assert _decorators(root, "db/engine.py", "session_scope_async") == ["asynccontextmanager"]
    assert function(root, "db/engine.py", "transaction_async") == TRANSACTION_ASYNC
    assert _decorators(root, "db/engine.py", "transaction_async") == ["contextlib.asynccontextmanager"]
    assert _decorators(root, "db/engine.py", "session_scope") == ["contextmanager"]  # the original stays
    assert any(
        isinstance(n, ast.ImportFrom) and n.module == "contextlib" and "asynccontextmanager" in [a.name for a in n.names]
        for n in ast.parse(read(root, "db/engine.py")).body
    )
    assert function(root, "api/items.py", "create_failing") == (
        "async def create_failing(name: str):\n"
        "    async with session_scope_async() as s:\n"
        "        s.add(Item(name=name, owner_id=1))\n"
        "        await s.flush()\n"
        '        raise HTTPException(409, "refused")'
    )
    assert "async with transaction_async() as s:" in function(root, "api/items.py", "create_in_transaction")
    assert read(root, "jobs.py") == JOB.lstrip("\n")  # code that stays synchronous enters the original
    result = serve(root, kind, SCRIPT)
    assert result == EXPECTED
    # A second run finds nothing left to do.
    again = apply(cli, root)
    assert again["files_changed"] == []


def test_scans_preview_says_what_phase_two_does_with_the_openers(cli, service):
    # scan previews phase two per router module: the routes entering a twinned opener migrate
    # there too, not "blocked" by the opener phase two would twin.
    root = service({"db/engine.py": OPENERS, "jobs.py": JOB, "api/items.py": ROUTES})
    scanned = {h["function"]: h for h in cli.json("scan", root)["handlers"] if h.get("phase2")}
    planned = {h["function"]: h["action"] for h in run(cli, root)["handlers"]}
    assert planned["create_item"] == "migrate"
    for name, action in planned.items():
        assert scanned[name]["phase2"]["action"] == action, scanned[name]


def test_an_opener_doing_more_than_its_sessions_lifecycle_stays_blocked_with_the_statement(cli, service):
    engine = ENGINE + '''

import logging
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def session_scope():
    session = database_sessionmaker()
    try:
        yield session
        session.commit()
        log.info("committed")
    finally:
        session.close()


@contextmanager
def tenant_scope(tenant: str):
    with database_sessionmaker() as session:
        yield session


def _scope():
    with database_sessionmaker() as session:
        yield session
        log.info("done")


wrapped_scope = contextmanager(_scope)
'''
    root = service({"db/engine.py": engine, "api/items.py": routes(
        "from db.engine import session_scope, tenant_scope, wrapped_scope",
        """
        @router.post("/items")
        async def create_item(name: str):
            with session_scope() as s:
                s.add(Item(name=name, owner_id=1))
        """,
        """
        @router.post("/tenant")
        async def create_for_tenant(name: str):
            with tenant_scope("a") as s:
                s.add(Item(name=name, owner_id=1))
        """,
        """
        @router.post("/wrapped")
        async def create_wrapped(name: str):
            with wrapped_scope() as s:
                s.add(Item(name=name, owner_id=1))
        """,
    )})
    document = run(cli, root)
    logged = handler(document, "create_item")
    assert logged["action"] == "blocked" and "AM216" in logged["codes"], logged
    text = " ".join(logged["reasons"])
    assert "its body does more than open, yield, commit, roll back and close its Session" in text, text
    assert "`log.info('committed')`" in text and "write the twin by hand" in text, text
    tenant = " ".join(handler(document, "create_for_tenant")["reasons"])
    assert "it takes parameters (`tenant`), which phase two does not carry into an async twin" in tenant, tenant
    wrapped = " ".join(handler(document, "create_wrapped")["reasons"])
    assert "its body does more than open, yield, commit, roll back and close its Session" in wrapped, wrapped
    assert document["files_changed"] == []


WRAPPED = ENGINE + '''

import contextlib
from contextlib import contextmanager


def _scope():
    session = database_sessionmaker()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def _read() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


session_scope = contextmanager(_scope)
read_scope = contextlib.contextmanager(_read)
'''
WRAPPED_ROUTES = routes(
    """
    from fastapi import HTTPException

    import db.engine as stack
    from db.engine import session_scope
    """,
    """
    @router.post("/items")
    def create_item(name: str):
        with session_scope() as s:
            s.add(Item(name=name, owner_id=1))
        return {"ok": True}
    """,
    """
    @router.post("/items/failing")
    def create_failing(name: str):
        with session_scope() as s:
            s.add(Item(name=name, owner_id=1))
            s.flush()
            raise HTTPException(409, "refused")
    """,
    """
    @router.get("/items/count")
    def count_items():
        with stack.read_scope() as s:
            return {"count": s.scalar(select(func.count()).select_from(Item))}
    """,
)
WRAPPED_SCRIPT = """
created = client.post("/items", params={"name": "kept"})
failing = client.post("/items/failing", params={"name": "rolled back"})
counted = client.get("/items/count").json()
import jobs
jobs.nightly("from the job")
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)).all())
print(json.dumps({"status": [created.status_code, failing.status_code], "counted": counted, "names": names}))
"""


def test_an_opener_wrapped_by_an_assignment_gets_a_twin_under_the_name_its_callers_enter(cli, service):
    # `session_scope = contextmanager(_scope)`: blocked (AM216) where it is decorated no differently.
    root = service({"db/engine.py": WRAPPED, "jobs.py": JOB, "api/items.py": WRAPPED_ROUTES})
    expected = {"status": [200, 409], "counted": {"count": 1}, "names": ["from the job", "kept"]}
    assert serve(root, "sqlite", WRAPPED_SCRIPT) == expected
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == dict.fromkeys(
        ["create_item", "create_failing", "count_items"], "migrate"
    )
    assert function(root, "db/engine.py", "session_scope_async") == SESSION_SCOPE_ASYNC
    assert _decorators(root, "db/engine.py", "session_scope_async") == ["asynccontextmanager"]
    assert _decorators(root, "db/engine.py", "read_scope_async") == ["asynccontextmanager"]
    engine = read(root, "db/engine.py")
    # the originals and their wrappers stay for the job
    assert "session_scope = contextmanager(_scope)\nread_scope = contextlib.contextmanager(_read)" in engine
    assert function(root, "db/engine.py", "_scope") in WRAPPED
    assert "async with session_scope_async() as s:" in function(root, "api/items.py", "create_failing")
    assert "async with stack.read_scope_async() as s:" in function(root, "api/items.py", "count_items")
    assert read(root, "jobs.py") == JOB.lstrip("\n")
    assert serve(root, "sqlite", WRAPPED_SCRIPT) == expected
    assert apply(cli, root)["files_changed"] == []  # a second run finds nothing left to do


def test_a_caller_entering_the_opener_where_async_with_cannot_stand_stays_blocked(cli, service):
    root = service({"db/engine.py": OPENERS, "api/items.py": routes(
        "from db.engine import session_scope",
        """
        @router.post("/items")
        async def create_item(name: str):
            with open("/dev/null") as sink, session_scope() as s:
                s.add(Item(name=name, owner_id=1))
        """,
        """
        @router.post("/bare")
        async def bare(name: str):
            with session_scope():
                pass
        """,
        """
        @router.post("/nested")
        async def nested(name: str):
            def inner():
                with session_scope() as s:
                    s.add(Item(name=name, owner_id=1))
            inner()
        """,
        """
        class Manager:
            def __init__(self):
                self.session_maker = session_scope

            def add(self, name):
                with self.session_maker() as s:
                    s.add(Item(name=name, owner_id=1))


        @router.post("/held")
        async def held(name: str):
            Manager().add(name)
        """,
    )})
    document = run(cli, root)
    mixed = handler(document, "create_item")
    assert mixed["action"] == "blocked", mixed
    assert "enters `session_scope()` beside other context managers in one `with` statement" in " ".join(
        mixed["reasons"]
    ), mixed
    bare = handler(document, "bare")
    assert bare["action"] == "blocked", bare
    assert "calls `session_scope()` other than as `with session_scope() as name:`" in " ".join(bare["reasons"]), bare
    # the `with` has the right form, but enters a value holding the opener
    kept = handler(document, "held")
    assert kept["action"] == "blocked", kept
    assert "opens `session_scope()` through `self.session_maker()`, a value holding it" in " ".join(kept["reasons"]), kept
    inner = handler(document, "nested")
    assert inner["action"] == "blocked", inner
    assert "enters `session_scope()` inside a nested function or lambda" in " ".join(inner["reasons"]), inner
    assert document["files_changed"] == []


def test_the_session_dependency_wrapped_in_its_module_is_entered_through_its_twin_and_injected_as_ever(cli, service):
    # `get_db_ctx = contextlib.contextmanager(get_db_session)`: FastAPI injects the generator,
    # code enters the wrapper; the route entering it blocked as calling a dependency (AM216).
    engine = ENGINE + "\n\nimport contextlib\n\nget_db_ctx = contextlib.contextmanager(get_db_session)\n"
    job = "from db.engine import get_db_ctx\nfrom models import Item\n\n\ndef nightly(name: str) -> None:\n" \
        "    with get_db_ctx() as s:\n        s.add(Item(name=name, owner_id=1))\n        s.commit()\n"
    root = service({"db/engine.py": engine, "jobs.py": job, "api/items.py": routes(
        "from db.engine import get_db_ctx",
        """
        @router.post("/items")
        def create_item(name: str):
            with get_db_ctx() as s:
                s.add(Item(name=name, owner_id=1))
                s.commit()
            return {"ok": True}
        """,
        """
        @router.get("/items/count")
        def count_items(db: session_dependency):
            return {"count": db.scalar(select(func.count()).select_from(Item))}
        """,
    )})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"create_item": "migrate", "count_items": "migrate"}
    assert "async with get_db_ctx_async() as s:" in function(root, "api/items.py", "create_item")
    assert _decorators(root, "db/engine.py", "get_db_ctx_async") == ["asynccontextmanager"]
    script = """
        created = client.post("/items", params={"name": "kept"}).status_code
        counted = client.get("/items/count").json()
        import jobs
        jobs.nightly("from the job")
        with Sync() as s:
            names = sorted(s.scalars(select(Item.name)).all())
        print(json.dumps({"created": created, "counted": counted, "names": names}))
    """
    assert serve(root, "sqlite", script) == {"created": 200, "counted": {"count": 1}, "names": ["from the job", "kept"]}


REGISTRY_ENGINE = ENGINE + '''

from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy.orm import scoped_session

request_scope: ContextVar = ContextVar("request_scope", default=None)
registry = scoped_session(database_sessionmaker, scopefunc=request_scope.get)


def begin_request():
    return request_scope.set(object())


@contextmanager
def session_scope():
    session = registry()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
'''
REGISTRY_ROUTES = routes(
    "from db.engine import begin_request, request_scope, session_scope",
    """
    def count_in_scope():
        with session_scope() as s:
            return s.scalar(select(func.count()).select_from(Item))


    @router.post("/items/import-count")
    def import_count(names: str):
        token = begin_request()
        try:
            with session_scope() as s:
                for name in names.split(","):
                    s.add(Item(name=name, owner_id=1))
                s.flush()
                total = count_in_scope()
            return {"total": total}
        finally:
            request_scope.reset(token)
    """,
)
REGISTRY_SCRIPT = """
counted = client.post("/items/import-count", params={"names": "a,b"}).json()
with Sync() as s:
    stored = s.scalar(select(func.count()).select_from(Item))
print(json.dumps({"counted": counted, "stored": stored}))
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_an_opener_taking_the_session_a_scoped_session_registry_keeps_gets_no_twin(cli, service, kind):
    # Every `session_scope()` of a request gets the registry's one Session: the nested scope counts
    # the rows its caller flushed. A twin opening a new AsyncSession per entry would count none of
    # them, so the route stays as it is, with the reason.
    root = service({"db/engine.py": REGISTRY_ENGINE, "api/items.py": REGISTRY_ROUTES})
    expected = {"counted": {"total": 2}, "stored": 2}
    assert serve(root, kind, REGISTRY_SCRIPT) == expected
    document = apply(cli, root)
    route = handler(document, "import_count")
    assert route["action"] == "blocked" and "AM216" in route["codes"], route
    text = " ".join(route["reasons"])
    assert "it takes no new Session: `registry()` at db/engine.py:31 returns the Session the `scoped_session` registry " \
        "`registry` (db/engine.py:22) keeps for the request" in text, text
    assert document["files_changed"] == []
    assert serve(root, kind, REGISTRY_SCRIPT) == expected


UNCLOSED = ENGINE + '''

from contextlib import contextmanager


@contextmanager
def session_scope():
    session = database_sessionmaker()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
'''
UNCLOSED_ROUTES = routes(
    "from db.engine import session_scope",
    """
    @router.post("/items")
    def create_item(name: str):
        with session_scope() as s:
            s.add(Item(name=name, owner_id=1))
        return {"ok": True}
    """,
)
UNCLOSED_SCRIPT = """
from sqlalchemy.ext.asyncio import AsyncSession

closed = []
close = AsyncSession.close


async def counted_close(self):
    closed.append(1)
    await close(self)


AsyncSession.close = counted_close
created = [client.post("/items", params={"name": name}).status_code for name in ("a", "b")]
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)).all())
print(json.dumps({"created": created, "names": names, "closed": len(closed)}))
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_the_twin_of_an_opener_that_never_closes_its_session_closes_the_async_one(cli, service, kind):
    # An AsyncSession left to the garbage collector may still hold its connection (a request
    # cancelled inside the block): the twin closes what it opens, as `async with maker()` would.
    root = service({"db/engine.py": UNCLOSED, "api/items.py": UNCLOSED_ROUTES})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert function(root, "db/engine.py", "session_scope_async") == SESSION_SCOPE_ASYNC
    assert serve(root, kind, UNCLOSED_SCRIPT) == {"created": [200, 200], "names": ["a", "b"], "closed": 2}
    assert apply(cli, root)["files_changed"] == []
