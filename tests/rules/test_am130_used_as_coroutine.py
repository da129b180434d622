"""AM130 used-as-coroutine: a handler another function calls without await (asyncio.run,
create_task) stays `async def`, and `check` names that caller in its fix."""

from __future__ import annotations

import subprocess
import sys

import pytest


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
    run = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "1", run.stdout + run.stderr
