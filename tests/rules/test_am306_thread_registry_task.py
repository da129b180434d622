"""AM306 for an `async def` background task on a thread-local `scoped_session`: the advice to make
it a plain def (which Starlette runs in its threadpool) says to call the registry's `remove()` in a
`finally` there, since that worker's Session is its own and nothing else removes it (AM332); the
task written so is reported by neither rule."""

from __future__ import annotations

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
