"""AM278 other-database: a helper opening its Session from a second database's sessionmaker
blocks the routes reaching it, and a sessionmaker with `binds=` or a Session class overriding
`get_bind()` blocks the subsystem; the stack's own sessionmaker, and a Session subclass that does
not override `get_bind()`, do not."""

from __future__ import annotations

ANALYTICS = """
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

analytics_engine = create_engine("sqlite://")
AnalyticsSession = sessionmaker(analytics_engine)


def get_analytics_db():
    with AnalyticsSession() as session:
        yield session
"""
REPORTS = """
from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.analytics import get_analytics_db

router = APIRouter()


@router.get("/events")
def events(adb: Session = Depends(get_analytics_db)):
    return adb.scalars(select(1)).all()
"""
ROUTER = """
@router.get("/count")
async def count(db: session_dependency):
    with {maker}() as s:
        return {{"n": s.scalar(select(func.count(Book.id)))}}
"""
FILES = {"db/analytics.py": ANALYTICS, "api/reports.py": REPORTS}


def test_a_session_from_another_databases_sessionmaker_blocks_the_route(phase2, entry):
    router = "from db.analytics import AnalyticsSession\n\n" + ROUTER.format(maker="AnalyticsSession")
    found = entry(phase2(router, FILES), "count")
    assert found["action"] == "blocked" and found["codes"] == ["AM278"], found
    assert "opens its Session from `AnalyticsSession` (db/analytics.py:5), another sessionmaker than the " \
        "async stack's `database_sessionmaker` (db/engine.py:7)" in found["reasons"][0], found


def test_near_miss_a_session_from_the_stacks_sessionmaker_migrates(phase2, entry):
    router = "from db.engine import database_sessionmaker\n\n" + ROUTER.format(maker="database_sessionmaker")
    document = phase2(router, FILES)
    assert entry(document, "count")["action"] == "migrate"
    assert "async with async_database_sessionmaker() as s:" in document["diff"]


ROUTED_ENGINE = """
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
other_engine = create_engine("sqlite://")


class AppSession(Session):
    {body}


database_sessionmaker = sessionmaker({arguments})


def get_db_session():
    with database_sessionmaker() as session:
        yield session
"""
ROUTED = """
@router.get("/count")
async def count(db: session_dependency):
    return {"n": db.scalar(select(func.count(Book.id)))}
"""
GET_BIND = "def get_bind(self, mapper=None, clause=None, **kw):\n        return engine"


def run_routed(phase2, arguments: str, body: str = "pass") -> dict:  # type: ignore[no-untyped-def]
    return phase2(ROUTED, {"db/engine.py": ROUTED_ENGINE.format(arguments=arguments, body=body)})


def test_binds_to_several_engines_blocks_the_subsystem(phase2, entry):
    found = entry(run_routed(phase2, "binds={Book: engine, object: other_engine}"), "count")
    assert found["action"] == "blocked" and found["codes"] == ["AM278"], found
    assert "routes its statements to several engines with `binds=" in found["reasons"][0], found


HAND_WRITTEN_BINDS = """

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

async_engine = create_async_engine("sqlite+aiosqlite://")
other_async_engine = create_async_engine("sqlite+aiosqlite://")
async_database_sessionmaker = async_sessionmaker(binds={Book: async_engine, object: other_async_engine})
"""


def test_an_async_sessionmaker_with_binds_written_as_advised_is_named_as_not_reused(phase2, entry):
    # a new-user trial: the advice was "write the async stack by hand (`async_sessionmaker(binds=...)`)";
    # written so, the same block came back word for word, as if phase two had not seen it
    text = ROUTED_ENGINE.format(arguments="binds={Book: engine, object: other_engine}", body="pass")
    text = text.replace("from sqlalchemy.orm import", "from models import Book\nfrom sqlalchemy.orm import")
    found = entry(phase2(ROUTED, {"db/engine.py": text + HAND_WRITTEN_BINDS}), "count")
    assert found["action"] == "blocked" and found["codes"] == ["AM278"], found
    assert "which phase two neither generates nor reuses (`async_database_sessionmaker` (db/engine.py:" in (
        found["reasons"][0]
    ), found
    assert "write the async stack by hand" not in found["reasons"][0], found


def test_near_miss_without_an_async_sessionmaker_the_block_names_none(phase2, entry):
    found = entry(run_routed(phase2, "binds={Book: engine, object: other_engine}"), "count")
    assert found["reasons"][0].endswith("which phase two neither generates nor reuses"), found


def test_a_session_class_overriding_get_bind_blocks_the_subsystem(phase2, entry):
    found = entry(run_routed(phase2, "engine, class_=AppSession", GET_BIND), "count")
    assert found["action"] == "blocked" and found["codes"] == ["AM278"], found
    assert "makes `AppSession` Sessions, whose `get_bind()` chooses the engine" in found["reasons"][0], found


def test_near_miss_a_session_subclass_without_get_bind_migrates(phase2, entry):
    assert entry(run_routed(phase2, "engine, class_=AppSession"), "count")["action"] == "migrate"
