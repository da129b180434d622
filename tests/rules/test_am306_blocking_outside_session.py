"""AM306 blocking-outside-session: `check` flags an `async def` route using a synchronous engine's
connection and one scheduling a blocking `async def` task; a route without either is clean."""

from __future__ import annotations

import json

from async_migrate.codemods.rules import by_code

ROUTES = """
from fastapi import BackgroundTasks
from sqlalchemy import text

from db.engine import database_sessionmaker, engine


@router.post("/bump")
async def bump():
    with engine.begin() as conn:
        conn.execute(text("select 1"))
    return {"ok": True}


async def audit(name: str) -> None:
    with database_sessionmaker() as db:
        db.execute(text("select 1"))
        db.commit()


@router.post("/audit")
async def schedule(name: str, tasks: BackgroundTasks):
    tasks.add_task(audit, name)
    return {"ok": True}


@router.get("/ping")
async def ping():
    return {"ok": True}
"""


def test_engine_work_and_a_blocking_task_are_flagged_with_am306(app, findings):
    root = app(ROUTES)
    bump = findings(root, "bump")
    assert [f["code"] for f in bump] == ["AM306"], bump
    assert "engine.begin()" in bump[0]["message"], bump
    schedule = findings(root, "schedule")
    assert [f["code"] for f in schedule] == ["AM306"], schedule
    assert "api.items.audit" in schedule[0]["message"], schedule


def test_near_miss_a_route_without_database_work_is_clean(app, findings):
    assert findings(app(ROUTES), "ping") == []


# The engine as an attribute of a module-level wrapper (`db.engine`, set in `Database.__init__`),
# `self.engine` in the wrapper's methods, and an engine a project function builds and returns.
WRAPPER = """
from sqlalchemy import create_engine, text


def build(url):
    return create_engine(url)


class Database:
    def __init__(self, url):
        self.engine = create_engine(url)
        self.other = build(url)

    def count(self):
        with self.engine.connect() as conn:
            return conn.execute(text("select 1")).scalar()


db = Database("sqlite://")
"""

WRAPPER_ROUTES = """
from sqlalchemy import text

from db.wrapper import db


@router.get("/attribute")
async def attribute():
    with db.engine.connect() as conn:
        return conn.execute(text("select 1")).scalar()


@router.get("/method")
async def method():
    return db.count()


@router.get("/built")
async def built():
    with db.other.begin() as conn:
        return conn.execute(text("select 1")).scalar()


@router.get("/url")
async def url():
    return str(db.engine.url)
"""


def test_engine_work_through_a_wrapper_attribute_is_flagged_with_am306(app, findings, reported):
    root = app(WRAPPER_ROUTES, {"db/wrapper.py": WRAPPER})
    for function, call in (("attribute", "db.engine.connect()"), ("method", "Database.count(...)"), ("built", "db.other.begin()")):
        found = findings(root, function)
        assert [f["code"] for f in found] == ["AM306"], found
        assert call in found[0]["message"], found
        entry = reported(root, function, "phase1")
        assert (entry["action"], entry["codes"]) == ("convert", ["AM127"]), entry


def test_near_miss_reading_a_wrapper_engine_attribute_is_clean(app, findings):
    assert findings(app(WRAPPER_ROUTES, {"db/wrapper.py": WRAPPER}), "url") == []


def test_the_summary_of_a_task_doing_session_work_says_so(app, findings, cli):
    """A new-user trial read AM306 on a task whose work is `with SessionLocal.begin() as db:` as
    'database work that is not Session work': the summary and the title say what the task does."""
    root = app(ROUTES)
    (schedule,) = findings(root, "schedule")
    sarif = json.loads(cli("check", root, "--format", "sarif").stdout)
    rules = {r["id"]: r for run in sarif["runs"] for r in run["tool"]["driver"]["rules"]}
    summary = rules["AM306"]["shortDescription"]["text"]
    assert schedule["code"] == "AM306" and "background task" in summary and "Session" in summary, summary
    assert "not Session work" not in by_code("AM306").doc.splitlines()[0], by_code("AM306").doc


def test_near_miss_the_summary_still_names_engine_work(app, findings):
    (bump,) = findings(app(ROUTES), "bump")
    assert bump["code"] == "AM306" and "synchronous engine" in by_code("AM306").summary
