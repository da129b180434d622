"""A thread-local `scoped_session` whose Session the code enters with `with` (`with self.Session()
as sess:`, agno's storage classes; `with ScopedSession() as sess:`), or its `begin()`: the exit
closes the Session or ends its transaction, so a worker thread's registry keeps a Session holding
no transaction nor connection (check already counted a `with reg.begin():` so; phase one did not).
Such work is no AM332 in a `def` route, and an `async def` route doing it converts (no AM132); a use
of the registry outside the block, or a Session the `with` does not enter itself, is as before."""

from __future__ import annotations

import pytest

STORAGE = """
from sqlalchemy import text
from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

ScopedSession = scoped_session(database_sessionmaker)


class Storage:
    def __init__(self) -> None:
        self.Session = scoped_session(database_sessionmaker)

    def read(self):
        with self.Session() as sess:
            return sess.execute(text("select 1")).scalar()

    def write(self):
        with self.Session() as sess, sess.begin():
            sess.execute(text("select 1"))

    def begun(self):
        with self.Session.begin() as sess:
            sess.execute(text("select 1"))

    def read_then_more(self):
        with self.Session() as sess:
            sess.execute(text("select 1"))
        return self.Session().execute(text("select 2")).scalar()

    def handed(self):
        with keep(self.Session()) as sess:
            return sess.execute(text("select 1")).scalar()


def keep(session):
    return session


def module_level():
    with ScopedSession() as sess:
        return sess.execute(text("select 1")).scalar()


def get_db():
    with ScopedSession() as db:
        yield db


storage = Storage()
"""

ROUTES = """
from fastapi import Depends
from sqlalchemy import text

from db.storage import get_db, module_level, storage


@router.get("/sync")
def read_sync():
    return storage.{method}()


@router.get("/async")
async def read_async():
    return storage.{method}()


@router.get("/dependency")
def read_dependency(db=Depends(get_db)):
    return db.execute(text("select 1")).scalar()
"""

CLOSED = ["read", "write", "begun"]
OPEN = ["read_then_more", "handed"]


def _root(app, method: str):  # type: ignore[no-untyped-def]
    routes = ROUTES.replace("storage.{method}()", "module_level()" if method == "module_level" else f"storage.{method}()")
    return app(routes, {"db/storage.py": STORAGE})


@pytest.mark.parametrize("method", [*CLOSED, "module_level"])
def test_work_in_a_with_entering_the_registry_session_is_no_am332_and_converts(app, findings, reported, method):
    root = _root(app, method)
    assert [f for f in findings(root, "read_sync") if f["code"] == "AM332"] == []
    entry = reported(root, "read_async", "phase1")
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


def test_near_miss_a_generator_dependency_yielding_inside_the_block_is_still_am332(app, findings):
    # FastAPI leaves the block after the response, on a worker thread of its own: meanwhile the
    # registry of the thread that entered it hands the same Session to the next request there
    [finding] = [f for f in findings(_root(app, "read"), "get_db") if f["code"] == "AM332"]
    assert "def dependency runs in a threadpool worker" in finding["message"], finding


@pytest.mark.parametrize("method", OPEN)
def test_near_miss_a_use_outside_the_block_or_a_session_not_entered_itself_is_as_before(app, findings, reported, method):
    root = _root(app, method)
    [finding] = [f for f in findings(root, "read_sync") if f["code"] == "AM332"]
    assert "a `scoped_session` whose scope is the thread" in finding["message"], finding
    entry = reported(root, "read_async", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry


RUNNING = {
    "shop/__init__.py": "",
    "shop/storage.py": """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker
from sqlalchemy.pool import QueuePool


class Storage:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=2)
        self.Session = scoped_session(sessionmaker(bind=self.engine))
        with self.Session() as sess, sess.begin():
            sess.execute(text("create table if not exists notes (body text)"))

    def add(self, body: str) -> None:
        with self.Session() as sess, sess.begin():
            sess.execute(text("insert into notes (body) values (:b)"), {"b": body})

    def count(self) -> int:
        with self.Session() as sess:
            return sess.execute(text("select count(*) from notes")).scalar_one()
""",
    "shop/main.py": """
import os

from fastapi import FastAPI

from shop.storage import Storage

app = FastAPI()
storage = Storage(os.environ["NOTES_URL"])


@app.post("/notes/{body}")
async def add(body: str):
    storage.add(body)
    return {"count": storage.count()}
""",
}

CLIENT = """
from fastapi.testclient import TestClient

from shop.main import app, storage

with TestClient(app) as client:
    counts = [client.post(f"/notes/n{i}").json()["count"] for i in range(6)]
# every worker thread's Session was closed by its `with`: none keeps the pool's one connection
print(counts, storage.engine.pool.checkedout())
"""


def test_the_converted_route_runs_in_workers_and_keeps_no_connection(tmp_path, cli):
    from sample import run_python

    for path, source in RUNNING.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(source.lstrip(), encoding="utf-8")
    document = cli.json("phase1", str(tmp_path), "--apply", "--allow-dirty", "--no-cache")
    [entry] = [h for h in document["handlers"] if h["function"] == "add"]
    assert entry["action"] == "convert", entry
    assert "\ndef add(body: str):" in (tmp_path / "shop/main.py").read_text(encoding="utf-8")
    env = {**__import__("os").environ, "NOTES_URL": f"sqlite:///{tmp_path / 'notes.db'}"}
    ran = run_python(CLIENT, cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["[1,", "2,", "3,", "4,", "5,", "6]", "0"], ran.stdout
