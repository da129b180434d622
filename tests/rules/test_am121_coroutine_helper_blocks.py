"""AM121 coroutine-helper-blocks: an awaited `async def` helper doing sync Session work keeps the route."""

from __future__ import annotations


def _helper(annotation: str, awaited: str) -> str:
    return f"""
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


async def save(item_id: int, db: {annotation}):
    {awaited}db.commit()
"""


def test_an_async_helper_committing_a_sync_session_is_am121(app, reported, findings):
    root = app(
        """
        from services.audit import save


        @router.post("/items/{item_id}")
        async def store(item_id: int, session: session_dependency):
            await save(item_id, session)
        """,
        {"services/__init__.py": "", "services/audit.py": _helper("Session", "")},
    )
    entry = reported(root, "store", "phase1")
    assert entry["codes"][:2] == ["AM108", "AM121"]
    assert "blocks the event loop at services/audit.py:6 (db.commit())" in entry["reasons"][1]
    [finding] = findings(root, "store")
    assert "make it a plain def and call it as `await run_in_threadpool(save, ...)`" in finding["message"]


def test_near_miss_an_async_helper_that_gets_no_session_is_not_am121(app, reported):
    root = app(
        """
        from services.audit import save


        @router.post("/items/{item_id}")
        async def store(item_id: int, session: session_dependency):
            session.execute("select 1")
            await save(item_id, None)
        """,
        {"services/__init__.py": "", "services/audit.py": _helper("AsyncSession", "await ")},
    )
    assert "AM121" not in reported(root, "store", "phase1")["codes"]


def test_an_async_helper_that_awaits_too_is_not_told_to_become_a_plain_def(app, reported, findings):
    root = app(
        """
        import asyncio

        from services.audit import save


        @router.post("/items/{item_id}")
        async def store(item_id: int, session: session_dependency):
            await save(item_id, session)
        """,
        {"services/__init__.py": "", "services/audit.py": _helper("Session", "await asyncio.sleep(0)\n    ")
         .replace("from sqlalchemy.orm import Session", "from sqlalchemy.orm import Session\nimport asyncio")},
    )
    reason = reported(root, "store", "phase1")["reasons"][1]
    assert "save awaits too, at services/audit.py:7 (`await asyncio.sleep(0)`), so it cannot become a plain def" in reason, reason
    [finding] = findings(root, "store")
    assert "make it a plain def" not in finding["message"], finding["message"]
    assert "move its Session work into a plain def helper that save calls" in finding["message"]


def test_an_async_context_manager_exit_is_not_told_to_become_a_plain_def(app, reported, findings):
    # `async with UnitOfWork() as uow:` awaits `__aexit__` itself: a plain def `__aexit__` breaks the
    # statement, and nothing can hand it to `run_in_threadpool`
    root = app(
        """
        from services.uow import UnitOfWork


        @router.post("/items/{item_id}")
        async def store(item_id: int):
            async with UnitOfWork() as uow:
                uow.session.commit()
        """,
        {"services/__init__.py": "", "services/uow.py": '''
from db.engine import database_sessionmaker


class UnitOfWork:
    async def __aenter__(self):
        self.session = database_sessionmaker()
        return self

    async def __aexit__(self, *exc):
        self.session.close()
'''},
    )
    reasons = " ".join(reported(root, "store", "phase1")["reasons"])
    [finding] = findings(root, "store")
    for text in (reasons, finding["message"]):
        assert "make __aexit__ a plain def" not in text and "run_in_threadpool(UnitOfWork" not in text, text
        assert "__aexit__ runs for `async with`, which awaits it, so it stays `async def`: move its Session work " \
            "into a plain def that __aexit__ calls as `await run_in_threadpool(...)`" in text, text


SCOPE = """
from contextlib import asynccontextmanager

from db.engine import database_sessionmaker


@asynccontextmanager
async def session_scope():
    session = database_sessionmaker()
    try:
        yield session
        session.commit()
    finally:
        session.close()


async def rows():
    with database_sessionmaker() as session:
        for row in session.execute("select 1"):
            yield row
"""


def test_an_asynccontextmanager_opener_of_a_sync_session_is_told_to_become_a_contextmanager(app, reported, findings):
    # `async with session_scope() as s:` runs the opener's commit and close on the loop: the fix
    # is a `@contextmanager` entered from a plain def, not a generator a `StreamingResponse` iterates.
    root = app(
        """
        from services.scope import rows, session_scope


        @router.post("/items")
        async def store():
            async with session_scope() as s:
                s.execute("insert into items values (1)")


        @router.get("/items")
        async def listed():
            return [row async for row in rows()]
        """,
        {"services/__init__.py": "", "services/scope.py": SCOPE},
    )
    entry = reported(root, "store", "phase1")
    reason = entry["reasons"][entry["codes"].index("AM121")]
    assert "enters the `@asynccontextmanager` helper services.scope.session_scope at line" in reason, reason
    assert "the event loop runs around the block" in reason, reason
    assert "`@contextmanager` plain def generator entered with `with`" in reason, reason
    assert "StreamingResponse" not in reason, reason
    [finding] = findings(root, "store")
    assert "`@contextmanager` plain def generator" in finding["message"], finding
    assert "StreamingResponse" not in finding["message"], finding
    # near miss: a plain async generator iterated by the route keeps the streaming advice
    near = reported(root, "listed", "phase1")
    text = near["reasons"][near["codes"].index("AM121")]
    assert "async generator helper services.scope.rows" in text and "StreamingResponse" in text, text


def test_the_helper_called_at_several_lines_is_one_reason_and_one_fix(app, reported, findings):
    # letta's chat completions: the same helper awaited in two branches was two reasons, and two
    # copies of one fix, in each message
    root = app(
        """
        from services.audit import save


        @router.post("/items/{item_id}")
        async def store(item_id: int, twice: bool, session: session_dependency):
            if twice:
                await save(item_id, session)
            await save(item_id + 1, session)
        """,
        {"services/__init__.py": "", "services/audit.py": _helper("Session", "")},
    )
    entry = reported(root, "store", "phase1")
    [reason] = [r for r, code in zip(entry["reasons"], entry["codes"]) if code == "AM121"]
    assert "calls the coroutine helper services.audit.save at lines 14, 15, which blocks" in reason, reason
    [finding] = findings(root, "store")
    message = finding["message"]
    assert message.count("make it a plain def and call it as `await run_in_threadpool(save, ...)`") == 1, message
    assert message.count("calls the coroutine helper services.audit.save") == 1, message
