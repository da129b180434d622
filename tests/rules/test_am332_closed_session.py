"""AM332 on a Session made from a thread-local `scoped_session` (`session = ScopedSession()`) and
closed through that name: a `close()` on every path after (a `finally`, a `with session:`) ends its
transaction and returns its connection, so the worker's registry keeps only a closed Session, which
holds nothing (Airflow's `create_session()`); a close some path skips leaves them open."""

from __future__ import annotations

import pytest

REGISTRY = """
from contextlib import contextmanager

from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

ScopedSession = scoped_session(database_sessionmaker)


@contextmanager
def create_session():
    Session = ScopedSession  # Airflow picks the registry into a local name
    session = Session()
    {helper}
"""

FINALLY = """try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()"""

SUCCESS_ONLY = """yield session
    session.commit()
    session.close()"""

ROUTES = """
from fastapi import Depends
from sqlalchemy import text

from db.scoped import ScopedSession, create_session


def count():
    session = ScopedSession()
    {body}


def count_with_helper():
    with create_session() as session:
        return session.execute(text("select 1")).scalar()


def get_db():
    db = ScopedSession()
    {dependency}


@router.get("/count")
def read_count():
    return count()


@router.get("/helper")
def read_with_helper():
    return count_with_helper()


@router.get("/dependency")
async def read_with_dependency(db=Depends(get_db)):
    return db.execute(text("select 1")).scalar()
"""

CLOSED_IN_FINALLY = """try:
        return session.execute(text("select 1")).scalar()
    finally:
        session.close()"""

CLOSED_BY_WITH = """with session:
        return session.execute(text("select 1")).scalar()"""

CLOSED_ON_SUCCESS = """found = session.execute(text("select 1")).scalar()
    session.close()
    return found"""


def _am332(  # type: ignore[no-untyped-def]
    findings, app, function: str, body: str = CLOSED_IN_FINALLY, helper: str = FINALLY, dependency: str = "yield db"
) -> list[dict]:
    routes = ROUTES.replace("{body}", body).replace("{dependency}", dependency)
    root = app(routes, {"db/scoped.py": REGISTRY.replace("{helper}", helper)})
    return [f for f in findings(root, function) if f["code"] == "AM332"]


@pytest.mark.parametrize("body", [CLOSED_IN_FINALLY, CLOSED_BY_WITH], ids=["finally", "with"])
def test_near_miss_a_registry_session_closed_on_every_path_is_not_am332(app, findings, body):
    assert _am332(findings, app, "read_count", body) == []


def test_a_registry_session_closed_only_on_the_success_path_is_am332(app, findings):
    # an exception from the query skips the close: the worker's Session keeps its transaction
    [finding] = _am332(findings, app, "read_count", CLOSED_ON_SUCCESS)
    assert "a `scoped_session` whose scope is the thread" in finding["message"], finding


def test_near_miss_a_contextmanager_helper_closing_in_finally_is_not_am332(app, findings):
    # Airflow's `create_session()`: the `finally` after its `yield` runs when the `with` is left,
    # on the thread that entered it
    assert _am332(findings, app, "read_with_helper") == []


def test_a_contextmanager_helper_closing_only_after_a_commit_is_am332(app, findings):
    [finding] = _am332(findings, app, "read_with_helper", helper=SUCCESS_ONLY)
    assert "(`Session()`)" in finding["message"], finding


@pytest.mark.parametrize(
    "dependency", ["yield db", "try:\n        yield db\n    finally:\n        db.close()"], ids=["open", "closed"]
)
def test_a_generator_dependency_handing_out_the_registry_session_is_am332(app, findings, dependency):
    # closed after the response or not, the route works on the Session the worker's registry
    # keeps, which the next request served by that worker is handed too
    [finding] = _am332(findings, app, "get_db", dependency=dependency)
    assert "def dependency runs in a threadpool worker" in finding["message"], finding
