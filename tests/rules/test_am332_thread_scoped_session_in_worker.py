"""AM332: work running on a worker thread (a `def` route or dependency, a helper an `async def`
route offloads, a plain `def` background task) uses a thread-local `scoped_session` that nothing
removes on that thread: the worker's Session, its transaction and connection, outlive the request."""

from __future__ import annotations

import pytest

REGISTRY = """
import threading
from contextvars import ContextVar

from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

request_scope: ContextVar[object] = ContextVar("request_scope", default=None)


async def enter_request():
    request_scope.set(object())


ScopedSession = scoped_session(database_sessionmaker{scope})
"""

ROUTES = """
import asyncio

from fastapi import BackgroundTasks, Depends
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from db.scoped import ScopedSession, enter_request


def count():
    return ScopedSession.execute(text("select 1")).scalar()


def count_and_remove():
    try:
        return ScopedSession.execute(text("select 1")).scalar()
    finally:
        ScopedSession.remove()


async def count_on_loop():
    return ScopedSession.execute(text("select 1")).scalar()


@router.get("/count", dependencies=[Depends(enter_request)])
{route}
"""


def _root(app, route: str, scope: str = ""):  # type: ignore[no-untyped-def]
    return app(ROUTES.replace("{route}", route), {"db/scoped.py": REGISTRY.replace("{scope}", scope)})


@pytest.mark.parametrize(
    ("route", "words"),
    [
        ("def read_count():\n    return count()", "def route runs in a threadpool worker and uses the registry"),
        (
            "async def read_count():\n    return await asyncio.to_thread(count)",
            "async def route hands `count` to a worker thread at line 34",
        ),
        (
            "async def read_count():\n    return await run_in_threadpool(count)",
            "async def route hands `count` to a worker thread at line 34",
        ),
        (
            "async def read_count(tasks: BackgroundTasks):\n    tasks.add_task(count)\n    return 1",
            "adds the background task `count` at line 34, which Starlette runs in a worker thread",
        ),
    ],
    ids=["def-route", "to-thread", "run-in-threadpool", "background-task"],
)
@pytest.mark.parametrize("scope", ["", ", scopefunc=threading.get_ident"], ids=["default", "thread-ident"])
def test_work_on_a_worker_thread_using_a_thread_local_registry_is_reported(app, findings, route, words, scope):
    found = findings(_root(app, route, scope), "read_count")
    [finding] = [f for f in found if f["code"] == "AM332"]
    assert words in finding["message"], finding["message"]
    assert "`ScopedSession`, a `scoped_session` whose scope is the thread (db/scoped.py:" in finding["message"]
    assert "keeps its transaction and connection" in finding["message"]


@pytest.mark.parametrize(
    ("route", "scope"),
    [
        # the worker removes its own Session
        ("def read_count():\n    return count_and_remove()", ""),
        ("async def read_count():\n    return await asyncio.to_thread(count_and_remove)", ""),
        # a registry scoped to the request, which a middleware removes
        ("def read_count():\n    return count()", ", scopefunc=request_scope.get"),
        ("async def read_count():\n    return await asyncio.to_thread(count)", ", scopefunc=request_scope.get"),
        # on the event loop thread, whose Session the middleware's `remove()` reaches (AM301's)
        ("async def read_count():\n    return count()", ""),
        ("async def read_count(tasks: BackgroundTasks):\n    tasks.add_task(count_on_loop)\n    return 1", ""),
    ],
    ids=["def-removes", "offloaded-removes", "def-request-scoped", "offloaded-request-scoped", "on-loop",
         "async-background-task"],
)
def test_near_miss_no_unremoved_thread_local_session_on_a_worker_is_not_am332(app, findings, route, scope):
    found = findings(_root(app, route, scope), "read_count")
    assert "AM332" not in [f["code"] for f in found], found


def test_a_pragma_silences_it(app, findings):
    route = "def read_count():  # async-migrate: ignore[AM332] the runner removes it per thread\n    return count()"
    assert findings(_root(app, route), "read_count") == []


DEPENDENCY = """
from fastapi import Depends
from sqlalchemy import text

from db.scoped import ScopedSession


def get_db():
    db = ScopedSession()
    try:
        yield db
    finally:
        ScopedSession.remove()


@router.get("/count")
async def read_count(db=Depends(get_db)):
    return db.execute(text("select 1")).scalar()
"""


def test_a_generator_dependency_removing_after_its_yield_is_reported(app, findings):
    # FastAPI runs the two halves of a plain generator dependency in two threadpool calls: the
    # `remove()` after the yield may run on another worker than `ScopedSession()` did.
    found = findings(app(DEPENDENCY, {"db/scoped.py": REGISTRY.replace("{scope}", "")}), "get_db")
    [finding] = [f for f in found if f["code"] == "AM332"]
    assert "def dependency runs in a threadpool worker and uses the registry" in finding["message"], finding
    assert "its `remove()` may empty another thread's registry" in finding["message"], finding


@pytest.mark.parametrize(
    ("route", "words"),
    [
        (
            "async def read_count():\n    ScopedSession.add(object())\n    await asyncio.to_thread(ScopedSession.commit)",
            "there it runs on that worker's own Session, not the one the code on the event loop works on",
        ),
        (
            "async def read_count():\n    try:\n        return count()\n    finally:\n"
            "        await run_in_threadpool(ScopedSession.remove)",
            "there it empties that worker's registry, while the Session the request used on the event loop stays open",
        ),
    ],
    ids=["offloaded-commit", "offloaded-remove"],
)
def test_a_method_of_the_registry_handed_to_a_worker_thread_is_reported(app, findings, route, words):
    # The registry's method looks up the Session of the thread it runs on: in the worker it
    # commits (or removes) the worker's Session, not the one the route worked on on the loop.
    found = findings(_root(app, route), "read_count")
    [finding] = [f for f in found if f["code"] == "AM332"]
    assert "hands `ScopedSession." in finding["message"] and words in finding["message"], finding["message"]


def test_near_miss_a_method_of_a_request_scoped_registry_handed_to_a_worker_thread(app, findings):
    # The threadpool copies the request's context: the worker's lookup finds the request's Session.
    route = "async def read_count():\n    ScopedSession.add(object())\n    await asyncio.to_thread(ScopedSession.commit)"
    found = findings(_root(app, route, ", scopefunc=request_scope.get"), "read_count")
    assert "AM332" not in [f["code"] for f in found], found


ENDED = """
from sqlalchemy import text
from sqlalchemy.orm import scoped_session
from starlette.concurrency import run_in_threadpool

from db.engine import database_sessionmaker


class VectorClient:
    def __init__(self) -> None:
        self.session = scoped_session(database_sessionmaker)

    def _rows(self) -> int:
        return self.session.execute(text("select 1")).scalar()

    def _count(self) -> int:
        return self._rows()

    def has_rows(self) -> bool:
        try:
            found = self._count() > 0
            {end}
            return found
        except Exception:
            {end}
            return False


CLIENT = VectorClient()


@router.get("/rows")
async def rows():
    return await run_in_threadpool(CLIENT.has_rows)
"""


def test_near_miss_work_ending_each_transaction_it_begins_is_not_am332(app, findings):
    # open-webui's vector clients: every use is followed by a commit or rollback on the same
    # registry, in the method or in the methods calling it; the worker's Session keeps no
    # transaction or connection from one request to the next
    root = app(ENDED.replace("{end}", "self.session.rollback()"))
    assert findings(root, "rows") == []


def test_work_leaving_a_transaction_open_on_some_caller_is_still_am332(app, findings):
    root = app(ENDED.replace("{end}", "pass"))
    (finding,) = findings(root, "rows")
    assert finding["code"] == "AM332", finding


UNCAUGHT = """
from sqlalchemy import text
from sqlalchemy.orm import scoped_session
from starlette.concurrency import run_in_threadpool

from db.engine import database_sessionmaker


class VectorClient:
    def __init__(self) -> None:
        self.session = scoped_session(database_sessionmaker)

    def has_rows(self) -> bool:
{body}


CLIENT = VectorClient()


@router.get("/rows")
async def rows():
    return await run_in_threadpool(CLIENT.has_rows)
"""

# the use, then the commit, written so an exception between them skips (or does not skip) it
_ENDS = {
    "normal-path-only": "        found = self.session.execute(text('select 1')).scalar() > 0\n        self.session.commit()\n        return found",
    "narrow-except": (
        "        try:\n            found = self.session.execute(text('select 1')).scalar() > 0\n            self.session.commit()\n"
        "        except ValueError:\n            self.session.rollback()\n            raise\n        return found"
    ),
    "except-only": (
        "        try:\n            return self.session.execute(text('select 1')).scalar() > 0\n"
        "        except Exception:\n            self.session.rollback()\n            raise"
    ),
    "finally": (
        "        try:\n            return self.session.execute(text('select 1')).scalar() > 0\n        finally:\n            self.session.rollback()"
    ),
    "catch-all": (
        "        try:\n            found = self.session.execute(text('select 1')).scalar() > 0\n            self.session.commit()\n"
        "        except BaseException:\n            self.session.rollback()\n            raise\n        return found"
    ),
    "with-begin": "        with self.session.begin():\n            return self.session.execute(text('select 1')).scalar() > 0",
}


@pytest.mark.parametrize("shape", ["normal-path-only", "narrow-except", "except-only"])
def test_an_end_some_exception_skips_leaves_the_worker_session_in_its_transaction(app, findings, shape):
    # an exception between the execute and the commit leaves the worker's registry its Session,
    # in a transaction holding a connection, for the next request on that thread
    root = app(UNCAUGHT.replace("{body}", _ENDS[shape]))
    assert [f["code"] for f in findings(root, "rows")] == ["AM332"]


@pytest.mark.parametrize("shape", ["finally", "catch-all", "with-begin"])
def test_near_miss_an_end_on_every_path_is_not_am332(app, findings, shape):
    root = app(UNCAUGHT.replace("{body}", _ENDS[shape]))
    assert findings(root, "rows") == []
