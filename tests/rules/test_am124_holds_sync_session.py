"""AM124 holds-sync-session: Session work on a Session the handler holds converts it."""

from __future__ import annotations

# Scoped to the request: a thread-local one is AM132.
SCOPED = """
from contextvars import ContextVar

from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

request_scope: ContextVar[object] = ContextVar("request_scope")
ScopedSession = scoped_session(sessionmaker(bind=create_engine("sqlite://")), scopefunc=request_scope.get)
"""


def test_a_scoped_session_global_used_directly_converts_with_am124(app, reported):
    root = app(
        """
        from db.scoped import ScopedSession


        @router.get("/items")
        async def list_items():
            return ScopedSession.query(dict).all()
        """,
        {"db/scoped.py": SCOPED},
    )
    entry = reported(root, "list_items", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM124"])
    assert entry["reasons"] == [
        "does synchronous Session work at line 13 (`ScopedSession.query()`) and never awaits"
    ]


def test_near_miss_a_method_that_does_no_io_keeps_with_am105(app, reported):
    root = app(
        """
        from db.scoped import ScopedSession


        @router.get("/items")
        async def list_items():
            return ScopedSession.is_active_flag
        """,
        {"db/scoped.py": SCOPED},
    )
    assert reported(root, "list_items", "phase1")["codes"] == ["AM105"]
