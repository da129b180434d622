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


def test_a_helper_taking_its_session_from_a_scoped_session_registry_is_not_said_to_open_one(app, reported):
    # `session = registry()` returns the Session the registry keeps for the request, the one every
    # other use of the registry gets: the route still converts, with what the helper really does.
    registry = {
        "services/__init__.py": "",
        "services/scope.py": """
            from contextlib import contextmanager
            from contextvars import ContextVar

            from sqlalchemy.orm import scoped_session

            from db.engine import database_sessionmaker

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


            def summarize():
                with session_scope() as s:
                    return s.execute("select 1").scalar()
            """,
    }
    root = app(
        """
        from services.scope import summarize


        @router.get("/summary")
        async def summary():
            return summarize()
        """,
        registry,
    )
    entry = reported(root, "summary", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM103"])
    text = entry["reasons"][0]
    assert "opens its own" not in text, text
    assert "takes a synchronous Session without opening one of its own (through services.scope.session_scope)" in text
    assert "the `scoped_session` registry `registry` (services/scope.py:9) keeps for the request" in text, text
