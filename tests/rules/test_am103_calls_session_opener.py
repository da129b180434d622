"""AM103 calls-session-opener: an `async def` handler calling a helper that opens a Session converts."""

from __future__ import annotations

HELPERS = {
    "services/__init__.py": "",
    "services/summary.py": """
        from db.engine import database_sessionmaker


        def summarize():
            with database_sessionmaker() as s:
                return s.execute("select 1").scalar()


        def describe():
            return "no database here"
        """,
}


def test_a_route_calling_a_session_opening_helper_converts_with_am103(app, reported):
    root = app(
        """
        from services.summary import summarize


        @router.get("/summary")
        async def summary():
            return summarize()
        """,
        HELPERS,
    )
    entry = reported(root, "summary", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM103"])
    assert entry["reasons"][0].startswith("calls services.summary.summarize (line ")


def test_near_miss_a_helper_without_a_session_keeps_the_route_with_am105(app, reported):
    root = app(
        """
        from services.summary import describe


        @router.get("/summary")
        async def summary():
            return describe()
        """,
        HELPERS,
    )
    entry = reported(root, "summary", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM105"])
