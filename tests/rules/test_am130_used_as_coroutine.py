"""AM130 used-as-coroutine: a handler another function calls without await (asyncio.run,
create_task) stays `async def`, and `check` names that caller in its fix."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sample import run_python


def test_a_route_run_by_asyncio_run_keeps_with_am130(app, reported, cli):
    files = {
        "tests/__init__.py": "",
        "tests/test_direct.py": """
            import asyncio

            from api.items import direct
            from db.engine import database_sessionmaker


            def test_direct():
                with database_sessionmaker() as session:
                    assert asyncio.run(direct(session)) == [1]
            """,
    }
    root = app(
        """
        from sqlalchemy import text


        @router.get("/direct")
        async def direct(session: session_dependency):
            return [row[0] for row in session.execute(text("select 1")).all()]
        """,
        files,
    )
    entry = reported(root, "direct", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM130"), entry
    assert entry["reasons"][0].startswith("called by tests.test_direct.test_direct (tests/test_direct.py:")
    assert cli("phase1", root, "--apply").exit_code == 0
    # Phase one left the route a coroutine function, so the caller still runs.
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_direct.py"],
                         cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_near_miss_a_route_only_inspected_converts(app, reported):
    root = app(
        """
        @router.get("/direct")
        async def direct(session: session_dependency):
            return session.execute("select 1").all()


        print(repr(direct))
        """
    )
    assert reported(root, "direct", "phase1")["codes"] == ["AM101"]


ITERATED = '''
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

engine = create_engine("sqlite:///./app.db")
app = FastAPI()


async def get_session():
    with Session(engine) as s:
        yield s


{use}


@app.get("/x")
async def x(db: Session = Depends(get_session)):
    return db.execute(text("select 1")).scalar_one()
'''

ITERATING = {
    "async-for": '''
async def job():
    async for s in get_session():
        return s.execute(text("select 1")).scalar_one()
''',
    "wrapper": '''
@asynccontextmanager
async def session_scope():
    async for s in get_session():
        yield s


async def job():
    async with session_scope() as s:
        return s.execute(text("select 1")).scalar_one()
''',
}


@pytest.mark.parametrize("shape", sorted(ITERATING))
def test_an_async_generator_dependency_iterated_keeps_with_am130_and_still_runs(project, reported, cli, shape):
    import textwrap

    root = project({"app.py": textwrap.dedent(ITERATED).replace("{use}", ITERATING[shape].strip("\n"))})
    entry = reported(root, "get_session", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM130"), entry
    assert entry["reasons"][0].startswith("called by app.")
    assert cli("phase1", root, "--apply").exit_code == 0
    script = "import asyncio, app; print(asyncio.run(app.job()))"
    run = run_python(script, cwd=root)
    assert run.returncode == 0 and run.stdout.strip() == "1", run.stdout + run.stderr


# A callable-instance dependency defined outside the app module, and a test calling it through
# asyncio.run by positional arguments: the test file names no Session, router or `async def`.
LOADER_DB = '''
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./loader.db")
SessionLocal = sessionmaker(engine)


def get_db():
    with SessionLocal() as s:
        yield s


SessionDep = Annotated[Session, Depends(get_db)]
'''
LOADER = '''
from sqlalchemy import text

from core.db import SessionDep, SessionLocal


class Loader:
    async def __call__(self, offset: int, session: SessionDep) -> int:
        return session.execute(text("select 42")).scalar_one() + offset


class AnswerLoader(Loader):
    pass


load_answer = AnswerLoader()


async def write_audit(message: str) -> None:
    with SessionLocal() as s:
        s.execute(text("select 1"))
'''
LOADER_APP = '''
from fastapi import BackgroundTasks, Depends, FastAPI

from core.deps import load_answer, write_audit

app = FastAPI()


@app.get("/answer")
async def answer(tasks: BackgroundTasks, value: int = Depends(load_answer)):
    tasks.add_task(write_audit, "x")
    return {"answer": value}
'''
# how the unit test reaches the instance: (its import, the call's callee)
REACHES = {
    "imported": ("from core.deps import load_answer", "load_answer"),
    "module-attribute": ("from core import deps", "deps.load_answer"),
    "dotted": ("import core.deps", "core.deps.load_answer"),
    "package": ("from core import load_answer", "load_answer"),
}


@pytest.mark.parametrize("reach", sorted(REACHES))
def test_a_callable_instance_a_test_runs_by_position_keeps_with_am130(project, reported, cli, reach):
    imported, callee = REACHES[reach]
    root = project({
        "main.py": LOADER_APP.lstrip(),
        "core/__init__.py": "from core.deps import load_answer as load_answer\n" if reach == "package" else "",
        "core/db.py": LOADER_DB.lstrip(),
        "core/deps.py": LOADER.lstrip(),
        "tests/__init__.py": "",
        "tests/conftest.py": "import pytest\n\nfrom core.db import SessionLocal\n\n\n@pytest.fixture\n"
                             "def db():\n    with SessionLocal() as s:\n        yield s\n",
        "tests/test_unit.py": f"import asyncio\n\n{imported}\n\n\ndef test_unit(db):\n"
                              f"    assert asyncio.run({callee}(0, db)) == 42\n",
        "tests/test_audit.py": "import asyncio\n\nfrom core.deps import write_audit\n\n\n"
                               "def test_audit():\n    asyncio.run(write_audit('unit'))\n",
    })
    entry = reported(root, "Loader.__call__", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM130"), entry
    assert entry["reasons"][0].startswith("called by tests.test_unit.test_unit (tests/test_unit.py:7)"), entry
    scheduled = reported(root, "answer", "phase1")["reasons"]
    assert any("phase one keeps write_audit async (called by tests.test_audit.test_audit" in r for r in scheduled)
    assert cli("phase1", root, "--apply").exit_code == 0
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                         cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
