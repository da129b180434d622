"""AM256 wrapped-session-dependency: a route whose Session comes through a dependency that wraps
the session provider and does more than a transaction around it is blocked, not handed the async
dependency without what the wrapper does; a plain transaction wrapper gets an async twin."""

from __future__ import annotations

ROUTES = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session


def get_tx_session(session: Session = Depends(get_db_session)):
    try:
        {extra}yield session
        session.commit()
    except Exception:
        session.rollback()
        raise


@router.post("/{book_id}/retitle")
def retitle(book_id: int, title: str, session: Session = Depends({dependency})):
    book = session.get(Book, book_id)
    book.title = title
    return {"title": book.title}
"""


def _routes(dependency: str, extra: str = "") -> str:
    return ROUTES.replace("{dependency}", dependency).replace("{extra}", extra)


def test_a_session_from_a_wrapper_doing_more_blocks_with_am256(phase2, entry):
    found = entry(phase2(_routes("get_tx_session", 'session.info["actor"] = "api"\n        ')), "retitle")
    assert found["action"] == "blocked" and found["codes"] == ["AM256"], found
    assert "gets its Session from `get_tx_session`, a dependency around the session provider" in found["reasons"][0]
    assert "`session.info['actor'] = 'api'` in `get_tx_session` is more than a transaction" in found["reasons"][0]


def test_near_miss_a_plain_transaction_wrapper_gets_an_async_twin(phase2, entry):
    document = phase2(_routes("get_tx_session"))
    found = entry(document, "retitle")
    assert found["action"] == "migrate" and "AM256" not in found["codes"], found
    assert entry(document, "get_tx_session", where="helpers")["action"] == "twin"


def test_near_miss_the_session_provider_itself_migrates(phase2, entry):
    found = entry(phase2(_routes("get_db_session")), "retitle")
    assert found["action"] == "migrate" and "AM256" not in found["codes"], found


def test_a_dependency_handing_out_a_module_global_session_is_named_as_such(phase2, entry):
    # Not a wrapper working around the request's Session: it hands out the process's one
    # Session, and the reason says so, naming the global and what to change.
    document = phase2(
        """
        from fastapi import Depends

        from db.engine import database_sessionmaker

        db = database_sessionmaker()


        def shared_db():
            return db


        @router.get("/titles")
        async def read_titles(s: Session = Depends(shared_db)):
            return list(s.scalars(select(Book.title)))
        """,
    )
    found = entry(document, "read_titles")
    assert found["action"] == "blocked" and "AM256" in found["codes"], found
    reason = next(r for r in found["reasons"] if "shared_db" in r)
    assert "which hands out `db`, created once at import time (api/items.py:15), one Session the whole " \
        "process shares" in reason, reason
    assert "wraps it" not in reason


def test_a_dependency_yielding_a_scoped_session_registry_is_named_as_such(phase2, entry):
    # A Flask-era `get_db` yielding the registry wraps nothing: the reason names the registry and
    # the configuration that makes it the session dependency, not a commit or rollback lost.
    document = phase2(
        """
        from fastapi import Depends
        from sqlalchemy.orm import scoped_session

        from db.engine import database_sessionmaker

        db_session = scoped_session(database_sessionmaker)


        def get_db():
            try:
                yield db_session
            finally:
                db_session.remove()


        @router.get("/titles")
        def read_titles(db: Session = Depends(get_db)):
            return list(db.scalars(select(Book.title)))
        """,
    )
    found = entry(document, "read_titles")
    assert found["action"] == "blocked" and "AM256" in found["codes"], found
    reason = next(r for r in found["reasons"] if "get_db" in r)
    assert "which hands out the Session of the `scoped_session` `db_session` (api/items.py:" in reason, reason
    assert '`session-dependencies = ["api.items.get_db"]`' in reason, reason
    assert "wraps it" not in reason
