"""AM330 other-sessionmaker: a helper opening its Session from a second database's sessionmaker
blocks the routes reaching it; one opening the stack's own sessionmaker does not."""

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
    assert found["action"] == "blocked" and found["codes"] == ["AM330"], found
    assert "opens its Session from `AnalyticsSession` (db/analytics.py:5), another sessionmaker than the " \
        "async stack's `database_sessionmaker` (db/engine.py:7)" in found["reasons"][0], found


def test_near_miss_a_session_from_the_stacks_sessionmaker_migrates(phase2, entry):
    router = "from db.engine import database_sessionmaker\n\n" + ROUTER.format(maker="database_sessionmaker")
    document = phase2(router, FILES)
    assert entry(document, "count")["action"] == "migrate"
    assert "async with async_database_sessionmaker() as s:" in document["diff"]
