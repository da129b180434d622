"""AM322 blocking-worker-coroutine: an `async def` job a worker or scheduler runs (an arq
`WorkerSettings.functions` entry, a scheduler's `add_job(job)`), which no route reaches, doing
synchronous Session work: `check` reports it rather than leave it out of the all-clear."""

from __future__ import annotations

DB = """\
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)


def get_db():
    with SessionLocal() as db:
        yield db
"""

CRUD = """\
from sqlalchemy import text
from sqlalchemy.orm import Session


def rebuild(db: Session, doc_id: int) -> int:
    db.execute(text("update docs set n = 1"))
    db.commit()
    return doc_id
"""

MAIN = """\
from fastapi import Depends, FastAPI

from app import crud
from app.db import get_db

app = FastAPI()


@app.post("/docs/{doc_id}")
def reindex(doc_id: int, db=Depends(get_db)):
    return crud.rebuild(db, doc_id)
"""

TASKS = """\
import asyncio

from app import crud
from app.db import SessionLocal


async def rebuild_index(ctx, doc_id):{pragma}
    with ctx["session_factory"]() as db:
        return {body}


async def startup(ctx):
    ctx["session_factory"] = SessionLocal


def _rebuild(doc_id):
    with SessionLocal() as db:
        return crud.rebuild(db, doc_id)


class WorkerSettings:
    functions = [rebuild_index]
    on_startup = startup
"""


def build(project, body="crud.rebuild(db, doc_id)", pragma=""):  # type: ignore[no-untyped-def]
    return project({
        "app/__init__.py": "",
        "app/db.py": DB,
        "app/crud.py": CRUD,
        "app/main.py": MAIN,
        "app/tasks.py": TASKS.format(body=body, pragma=pragma),
    })


def test_a_worker_job_blocking_its_loop_is_a_finding(cli, project):
    root = build(project)
    document = cli.json("check", root)
    assert [(f["code"], f["file"], f["function"]) for f in document["findings"]] == [
        ("AM322", "app/tasks.py", "rebuild_index"),
    ]
    assert "app/tasks.py:9 (app.crud.rebuild(...))" in document["findings"][0]["message"]
    assert cli("check", root).exit_code == 1


def test_a_pragma_silences_it(cli, project):
    root = build(project, pragma="  # async-migrate: ignore[AM322] one job at a time per worker")
    document = cli.json("check", root)
    assert document["findings"] == []
    assert [s["code"] for s in document["silenced"]] == ["AM322"]


def test_near_miss_the_job_offloads_the_session_work(cli, project):
    root = build(project, body="await asyncio.to_thread(_rebuild, doc_id)")
    assert cli.json("check", root)["findings"] == []


COPIED = """\
import types

from fastapi import Depends, FastAPI, Security
from sqlalchemy.ext.asyncio import AsyncSession

from app import crud
from app.db import get_db

app = FastAPI()


def copy_func(f):
    return types.FunctionType(f.__code__, f.__globals__, name=f.__name__, argdefs=f.__defaults__, closure=f.__closure__)


async def get_async_db():
    yield AsyncSession()


async def verify(db=Depends(get_db)) -> int:
    return crud.rebuild(db, 1)


verify_cli = copy_func(verify)


@app.put("/docs")
async def update(doc_id: int = Security(verify_cli), db: AsyncSession = Depends(get_async_db)):
    await db.commit()
    return doc_id
"""


def test_near_miss_a_dependency_a_route_reaches_through_a_copy_is_the_routes(cli, project):
    # FastAPI runs the copy's code, verify's, as the route's dependency: a route reaches it, so it
    # is no job of a worker's; it blocks the request's loop (AM301) beside the route's AsyncSession
    root = project({"app/__init__.py": "", "app/db.py": DB, "app/crud.py": CRUD, "app/main.py": COPIED})
    found = {(f["code"], f["function"]) for f in cli.json("check", root)["findings"]}
    assert ("AM322", "verify") not in found, found
    assert {("AM301", "verify"), ("AM319", "update")} <= found, found
