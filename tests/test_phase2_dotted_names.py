"""Phase two beside a scheduler or task runner that names the helpers it runs by their dotted
path in a string (`"crud:rename_user"` for `pkgutil.resolve_name`, APScheduler's `add_job`,
RQ's `enqueue`): no call of the helper shows, so moved in place it would hand the runner a
coroutine nobody awaits and the write would be lost. Each such helper keeps its synchronous
definition beside an async twin, whether the runner's module is read or never read (no
marker in it). The migrated code is RUN and the database is checked."""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve
from test_phase2_worker_callers import CRUD

service = test_phase2_soundness.service

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

# A runner the analysis reads (it opens a Session): the table's strings are all that names them.
READ_RUNNER = """
import sys

import crud  # noqa: F401  (loaded for the table below)
from db.engine import database_sessionmaker

JOBS = {"find": "crud:find_user", "rename": "crud.rename_user"}


def run_job(name: str, *args):
    module, _, attribute = JOBS[name].replace(":", ".").rpartition(".")
    with database_sessionmaker() as db:
        return getattr(sys.modules[module], attribute)(db, *args)
"""

# `pkgutil.resolve_name` on a string built at run time: any project function may be named.
RESOLVER = """
import pkgutil

from db.engine import database_sessionmaker


def run_job(name: str, *args):
    with database_sessionmaker() as db:
        return pkgutil.resolve_name(f"crud:{name}_user")(db, *args)
"""

# A scheduler table in a file holding no marker: the pre-pass never reads it. The caller hands
# the database handle in.
UNREAD_RUNNER = """
JOBS = {"find": "crud:find_user", "rename": "crud.rename_user"}


def run_job(name, handle, *args):
    module, _, attribute = JOBS[name].replace(":", ".").rpartition(".")
    return getattr(__import__(module), attribute)(handle, *args)
"""

SHAPES = {"read": READ_RUNNER, "resolve_name": RESOLVER, "unread": UNREAD_RUNNER}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_helper_named_by_its_dotted_path_keeps_its_sync_definition(cli, service, shape):
    written = dedent(SHAPES[shape])
    root = service({SUBSYSTEM: routes(ROUTES), "crud.py": dedent(CRUD), "jobs.py": written})
    document = apply(cli, root)
    assert handler(document, "find")["action"] == "migrate"
    assert handler(document, "rename")["action"] == "migrate"
    migrated = (root / "crud.py").read_text()
    assert "\ndef find_user(db: Session" in migrated and "async def find_user_async(" in migrated
    assert "\ndef rename_user(db: Session" in migrated and "async def rename_user_async(" in migrated
    assert (root / "jobs.py").read_text() == written
    run = 'run_job("{}", {})'
    if shape == "unread":
        run = 'run_job("{}", s, {})'
    assert serve(root, "sqlite", f"""
        from jobs import run_job

        found = client.get("/find/Ann").json()
        with Sync() as s:
            missing = {run.format("find", '"Nobody"')}
            named = {run.format("rename", '2, "Bea"')}
        with Sync() as s:
            after_job = sorted(s.scalars(select(User.name)))
        renamed = client.post("/rename/1/Cy").json()
        with Sync() as s:
            names = sorted(s.scalars(select(User.name)))
        print(json.dumps([found, missing, named, after_job, renamed, names]))
    """) == [{"id": 1}, None, "Bea", ["Ann", "Bea"], {"name": "Cy"}, ["Bea", "Cy"]]


# A near miss: strings that spell no project function (a version, a host, a library's path)
# leave the helpers moving in place.
NEAR_MISS = """
from db.engine import database_sessionmaker

VERSION = "1.2"
HOST = "db.internal"
LOADER = "json:loads"


def run_job(*args):
    with database_sessionmaker() as db:
        return len(args), db is not None
"""


def test_strings_naming_no_project_function_keep_in_place_rewriting(cli, service):
    root = service({SUBSYSTEM: routes(ROUTES), "crud.py": dedent(CRUD), "jobs.py": dedent(NEAR_MISS)})
    document = apply(cli, root)
    assert handler(document, "rename")["action"] == "migrate"
    migrated = (root / "crud.py").read_text()
    assert "async def rename_user(db: AsyncSession" in migrated and "rename_user_async" not in migrated
    assert serve(root, "sqlite", """
        renamed = client.post("/rename/1/Cy").json()
        with Sync() as s:
            names = sorted(s.scalars(select(User.name)))
        print(json.dumps([renamed, names]))
    """) == [{"name": "Cy"}, ["Bob", "Cy"]]
