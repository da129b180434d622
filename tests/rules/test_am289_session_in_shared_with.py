"""AM289 session-in-shared-with: a Session opened in a `with` statement that enters other
context managers too blocks the function in phase two; its own `with` statement migrates."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "statement",
    [
        "with lock, database_sessionmaker() as s:",
        "with database_sessionmaker() as s, lock:",
        "with database_sessionmaker() as s, database_sessionmaker.begin() as t:",
        "with open(__file__) as f, database_sessionmaker.begin() as s:",
        "with lock, Session(engine) as s:",
    ],
    ids=["lock-first", "lock-after", "two-sessions", "file-and-begin", "session-on-engine"],
)
def test_a_session_beside_other_context_managers_blocks_the_route_with_am289(phase2, entry, statement):
    document = phase2(
        f"""
        import threading

        from db.engine import database_sessionmaker, engine

        lock = threading.Lock()


        @router.get("/count")
        async def count():
            {statement}
                return s.scalar(select(func.count(Book.id)))
        """
    )
    found = entry(document, "count")
    assert found["action"] == "blocked", found
    assert "AM289" in found["codes"], found
    assert "`with` statement that enters other context managers too" in found["reasons"][found["codes"].index("AM289")]
    assert "async with" not in document["diff"]


def test_near_miss_a_with_statement_of_its_own_migrates(phase2, entry):
    document = phase2(
        """
        import threading

        from db.engine import database_sessionmaker

        lock = threading.Lock()


        @router.get("/count")
        async def count():
            with lock:
                with database_sessionmaker() as s:
                    return s.scalar(select(func.count(Book.id)))
        """
    )
    found = entry(document, "count")
    assert (found["action"], "AM289" in found["codes"]) == ("migrate", False), found
    assert "     with lock:\n-        with database_sessionmaker() as s:\n" in document["diff"]
    assert "+        async with async_database_sessionmaker() as s:\n" in document["diff"]


@pytest.mark.parametrize(
    "statement",
    ["with session.begin(), session.no_autoflush:", "with lock, session.begin_nested():"],
    ids=["begin-and-no-autoflush", "lock-and-savepoint"],
)
def test_a_transaction_beside_other_context_managers_blocks_the_route_with_am289(phase2, entry, statement):
    # `async with session.begin(), session.no_autoflush:` raises TypeError: no_autoflush has no __aenter__
    document = phase2(
        f"""
        import threading

        lock = threading.Lock()


        @router.post("/books")
        def add(session: session_dependency):
            {statement}
                session.add(Book(title="x", author_id=1))
        """
    )
    found = entry(document, "add")
    assert found["action"] == "blocked" and "AM289" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM289")]
    assert "`with` statement that enters other context managers too" in reason
    assert "async with" not in document["diff"]


@pytest.mark.parametrize(
    "statement",
    ["with session.begin(), session.begin_nested():", "with database_sessionmaker() as s, s.begin():"],
    ids=["two-transactions", "opened-and-begun"],
)
def test_near_miss_transactions_async_with_enters_alike_migrate(phase2, entry, statement):
    document = phase2(
        f"""
        from db.engine import database_sessionmaker


        @router.post("/books")
        def add(session: session_dependency):
            {statement}
                session.add(Book(title="x", author_id=1))
        """
    )
    found = entry(document, "add")
    assert (found["action"], "AM289" in found["codes"]) == ("migrate", False), found
    assert "    async with " in document["diff"]
