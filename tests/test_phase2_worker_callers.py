"""Phase two beside a background worker: helpers a migrated route shares with Celery-style tasks
and arq jobs (called directly, through `functools.partial`, or looked up by name with
`getattr(crud, name)`) get an async twin; the tasks keep calling the synchronous original. The
migrated application and the tasks are RUN."""

from __future__ import annotations

import test_phase2_soundness
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve

service = test_phase2_soundness.service  # the same small application on the sync stack

CRUD = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User


def find_user(db: Session, name: str) -> User | None:
    return db.scalars(select(User).where(User.name == name)).first()


def rename_user(db: Session, user_id: int, name: str) -> str:
    user = db.get(User, user_id)
    user.name = name
    db.commit()
    return user.name
"""

# A task runner's module: plain functions a worker process runs (Celery's decorator left out,
# it only wraps them), one dispatching by the helper's name.
TASKS = """
from db.engine import database_sessionmaker

import crud


def run_named(helper: str, *args):
    with database_sessionmaker() as db:
        return getattr(crud, helper)(db, *args)


async def rename_job(ctx, user_id: int, name: str) -> str:
    with ctx["session_factory"]() as db:
        return crud.rename_user(db, user_id, name)


class WorkerSettings:
    functions = [rename_job]
"""

ROUTES = """
import crud


@router.get("/find/{name}")
async def find(name: str, db: session_dependency):
    user = crud.find_user(db, name)
    return {"id": user.id if user else None}


@router.post("/rename/{user_id}/{name}")
async def rename(user_id: int, name: str, db: session_dependency):
    return {"name": crud.rename_user(db, user_id, name)}
"""


def test_helpers_a_worker_calls_get_twins_and_the_worker_still_runs(cli, service):
    root = service({SUBSYSTEM: routes(ROUTES), "crud.py": dedent(CRUD), "tasks.py": dedent(TASKS)})
    document = apply(cli, root)
    assert handler(document, "find")["action"] == "migrate"
    assert handler(document, "rename")["action"] == "migrate"
    migrated = (root / "crud.py").read_text()
    # `getattr(crud, helper)` may run either helper: both keep their synchronous definition
    assert "\ndef find_user(db: Session" in migrated and "async def find_user_async(" in migrated
    assert "\ndef rename_user(db: Session" in migrated and "async def rename_user_async(" in migrated
    assert (root / "tasks.py").read_text() == dedent(TASKS)
    assert serve(root, "sqlite", """
        from tasks import rename_job, run_named

        found = client.get("/find/Ann").json()
        missing = run_named("find_user", "Nobody")
        named = run_named("rename_user", 2, "Bea")
        job = asyncio.run(rename_job({"session_factory": Sync}, 1, "Ada"))
        renamed = client.post("/rename/2/Cy").json()
        with Sync() as s:
            names = sorted(s.scalars(select(User.name)))
        print(json.dumps([found, missing, named, job, renamed, names]))
    """) == [{"id": 1}, None, "Bea", "Ada", {"name": "Cy"}, ["Ada", "Cy"]]


def test_shared_block_names_the_lookup_by_name(cli, service):
    root = service({SUBSYSTEM: routes(ROUTES), "crud.py": dedent(CRUD), "tasks.py": dedent(TASKS)})
    document = apply(cli, root, "--shared", "block")
    found = handler(document, "find")
    assert (found["action"], found["codes"]) == ("blocked", ["AM218"]), found
    assert "crud.find_user, which is shared with tasks.run_named, a value reference in tasks (by name: `getattr(crud, ...)`)" in (
        found["reasons"][0]
    )
    assert (root / "crud.py").read_text() == dedent(CRUD)
