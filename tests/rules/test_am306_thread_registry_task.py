"""AM306 for an `async def` background task on a thread-local `scoped_session`: the advice to make
it a plain def (which Starlette runs in its threadpool) says to call the registry's `remove()` in a
`finally` there, since that worker's Session is its own and nothing else removes it (AM332); the
task written so is reported by neither rule."""

from __future__ import annotations

import pytest

REGISTRY = """
from sqlalchemy import Column, Integer, create_engine
from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker

engine = create_engine("sqlite:///./app.db")
SessionLocal = sessionmaker(bind=engine)
reg = scoped_session(SessionLocal)
Base = declarative_base()
Base.query = reg.query_property()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
"""

ROUTES = """
from fastapi import BackgroundTasks

from db import SessionLocal, User, reg


TASK


@router.post("/jobs")
async def start_job(background: BackgroundTasks):
    background.add_task(count_users_job, "x")
    return {}
"""

ASYNC_TASK = """
async def count_users_job(tag):
    n = User.query.count()
    return tag, n
"""

PLAIN_TASK = """
def count_users_job(tag):
    try:
        n = User.query.count()
        return tag, n
    finally:
        reg.remove()
"""

OWN_SESSION_TASK = """
async def count_users_job(tag):
    with SessionLocal() as session:
        return tag, session.query(User).count()
"""


def _root(app, task: str):  # type: ignore[no-untyped-def]
    return app(ROUTES.replace("TASK", task.strip("\n")), {"db.py": REGISTRY})


def test_the_plain_def_advice_says_to_remove_the_thread_registry_in_the_task(app, findings):
    found = findings(_root(app, ASYNC_TASK), "start_job")
    [finding] = [f for f in found if f["code"] == "AM306"]
    message = finding["message"]
    assert "make count_users_job a plain def (Starlette runs it in the threadpool)" in message, message
    assert (
        "in a worker thread its Session work (at api/items.py:14 (`User.query.count()`), on `User.query`, a "
        "`query_property()` of a `scoped_session` whose scope is the thread (db.py:6)) runs on that worker's own "
        "Session, which nothing else removes: call the registry's `remove()` in a `finally`"
    ) in message, message


def test_the_task_following_that_advice_is_reported_by_neither_rule(app, findings):
    assert findings(_root(app, PLAIN_TASK), "start_job") == []


def test_near_miss_a_task_on_a_session_of_its_own_gets_no_remove_advice(app, findings):
    [finding] = [f for f in findings(_root(app, OWN_SESSION_TASK), "start_job") if f["code"] == "AM306"]
    assert finding["message"].endswith(
        "make count_users_job a plain def (Starlette runs it in the threadpool) or move its work to AsyncSession"
    ), finding["message"]


# The same advice on a registry (or Session) that is not the worker thread's own: a task-keyed
# registry fails there, and one Session other requests use meanwhile must not reach a thread.
OTHER_SCOPES = """
import asyncio
from contextvars import ContextVar

from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

engine = create_engine("sqlite:///./app.db")
SessionLocal = sessionmaker(bind=engine)
by_task = scoped_session(SessionLocal, scopefunc=asyncio.current_task)
unset: ContextVar[object] = ContextVar("unset", default=None)
one_key = scoped_session(SessionLocal, scopefunc=unset.get)
thread_reg = scoped_session(SessionLocal)
GLOBAL = SessionLocal()


async def loop_session():
    return thread_reg()
"""

OTHER_ROUTES = """
from fastapi import BackgroundTasks, Depends
from sqlalchemy import text

from db import GLOBAL, by_task, loop_session, one_key


async def job(db=None):
    WORK


@router.post("/jobs")
async def start_job(background: BackgroundTasks, db=Depends(loop_session)):
    background.add_task(job, ARGS)
    return {}
"""

_TASK_FAILS = "fails: the registry is keyed on the asyncio task and a worker thread runs none"
_SHARED = "would use, from that thread, a Session other requests use on the event loop at the same time"


@pytest.mark.parametrize(
    ("work", "args", "words"),
    [
        ('by_task.execute(text("select 1"))', "", _TASK_FAILS),
        ('one_key.execute(text("select 1"))', "", _SHARED),
        ('GLOBAL.execute(text("select 1"))', "", _SHARED),
        ('db.execute(text("select 1"))', "db", _SHARED),
    ],
    ids=["task-keyed", "one-key", "process-wide", "dependency-handed"],
)
def test_the_plain_def_advice_says_what_a_worker_thread_makes_of_the_registry(app, findings, work, args, words):
    # before, each got the bare "make job a plain def" advice, which fails (task-keyed) or has a
    # worker thread use one Session beside the requests on the event loop
    routes = OTHER_ROUTES.replace("WORK", work).replace(", ARGS", f", {args}" if args else "")
    [finding] = [f for f in findings(app(routes, {"db.py": OTHER_SCOPES}), "start_job") if f["code"] == "AM306"]
    assert words in finding["message"], finding["message"]
    assert "open a Session of its own (`with SessionLocal() as session:`)" in finding["message"]
    assert "call the registry's `remove()`" not in finding["message"], finding["message"]


def test_phase_one_keeps_a_task_handed_a_session_from_a_registry_dependency(app, reported, cli):
    # before, the task became a plain def: Starlette ran it in a worker thread on the Session the
    # event loop thread's requests all get from `loop_session()`
    routes = OTHER_ROUTES.replace("WORK", 'db.execute(text("select 1"))').replace("ARGS", "db")
    root = app(routes, {"db.py": OTHER_SCOPES})
    entry = reported(root, "start_job", "phase1")
    assert any("phase one keeps job async (api/items.py:20 hands it `db`" in r for r in entry["reasons"]), entry["reasons"]
    tasks = [h for h in cli.json("phase1", root)["handlers"] if h["function"] == "job"]
    assert tasks == [], tasks


def test_near_miss_a_task_handed_a_plain_value_becomes_a_plain_def(app, cli):
    routes = OTHER_ROUTES.replace("WORK", 'GLOBAL.execute(text("select 1")) if db else None')
    routes = routes.replace("GLOBAL.execute", "SessionLocal().execute").replace("import GLOBAL,", "import SessionLocal,")
    root = app(routes.replace("ARGS", "1"), {"db.py": OTHER_SCOPES})
    [task] = [h for h in cli.json("phase1", root)["handlers"] if h["function"] == "job"]
    assert task["action"] == "convert", task
