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


def test_a_helper_importing_its_opener_inside_the_function_converts_with_am103(app, reported, findings):
    # The import inside the function (kept there to avoid an import cycle) resolves like a
    # module-level one; before, the route read as doing no Session work and check was clean.
    local_import = {
        "services/__init__.py": "",
        "services/audit.py": """
            def record(what):
                from db.engine import database_sessionmaker as make_session

                with make_session() as s:
                    s.execute("select 1")
                    s.commit()
            """,
    }
    root = app(
        """
        from services.audit import record


        @router.post("/audit")
        async def audit(what: str):
            record(what)
        """,
        local_import,
    )
    entry = reported(root, "audit", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM103"])
    assert [f["code"] for f in findings(root, "audit")] == ["AM301"]
