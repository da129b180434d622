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
