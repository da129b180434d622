"""AM102 opens-sync-session: an `async def` handler that opens its own synchronous Session converts."""

from __future__ import annotations


def test_a_route_opening_a_session_converts_with_am102(app, reported):
    root = app(
        """
        from db.engine import database_sessionmaker


        @router.get("/count")
        async def count():
            with database_sessionmaker() as s:
                return s.execute("select count(*)").scalar()
        """
    )
    entry = reported(root, "count", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM102"])


def test_near_miss_a_route_that_only_names_the_sessionmaker_keeps_with_am105(app, reported):
    root = app(
        """
        from db.engine import database_sessionmaker


        @router.get("/count")
        async def count():
            return {"factory": repr(database_sessionmaker)}
        """
    )
    entry = reported(root, "count", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM105"])


def test_a_session_opened_in_a_helper_call_s_arguments_is_session_work(app, reported, findings):
    # `helper(SessionLocal(), x)`: the helper's queries run on the event loop in an async def
    # route; it was reported as doing no Session work, and `check` passed it.
    root = app(
        """
        from sqlalchemy import select

        from db.engine import database_sessionmaker
        from models import Book


        def count_books(session):
            return len(session.scalars(select(Book)).all())


        @router.get("/count")
        async def count():
            return count_books(database_sessionmaker())
        """,
    )
    entry = reported(root, "count", "phase1")
    assert entry["action"] == "convert" and "AM102" in entry["codes"], entry
    assert [f["code"] for f in findings(root, "count")] == ["AM301"]
