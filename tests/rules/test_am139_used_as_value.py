"""AM139 used-as-value: an `async def` dependency handed on or stored as a value (wrapped by
asynccontextmanager, passed to other code, kept in a table) stays `async def`, and the code
using it still runs after phase one; one FastAPI alone takes (Depends, add_api_route) converts."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

MODULE = """
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

engine = create_engine("sqlite://")
app = FastAPI()


async def get_session():
    with Session(engine) as s:
        yield s


{use}


@app.get("/x")
async def x(db: Session = Depends(get_session)):
    return db.execute(text("select 1")).scalar_one()
"""

USES = {
    "wrapped": """
get_session_ctx = asynccontextmanager(get_session)


async def job():
    async with get_session_ctx() as s:
        return s.execute(text("select 1")).scalar_one()
""",
    "wrapped-in-a-body": """
async def job():
    async with asynccontextmanager(get_session)() as s:
        return s.execute(text("select 1")).scalar_one()
""",
    "default": """
async def job(opener=get_session):
    async with asynccontextmanager(opener)() as s:
        return s.execute(text("select 1")).scalar_one()
""",
    "stored": """
OPENERS = {"default": get_session}


async def job():
    async for s in OPENERS["default"]():
        return s.execute(text("select 1")).scalar_one()
""",
}


def _run_job(root) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    script = "import asyncio, app; print(asyncio.run(app.job()))"
    return subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True)


@pytest.mark.parametrize("shape", sorted(USES))
def test_a_dependency_used_as_a_value_keeps_with_am139_and_still_runs(project, reported, cli, shape):
    root = project({"app.py": textwrap.dedent(MODULE).replace("{use}", USES[shape].strip("\n"))})
    entry = reported(root, "get_session", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM139"), entry
    assert entry["reasons"][0].startswith("used as a value at app.py:"), entry
    assert reported(root, "x", "phase1")["action"] == "convert"
    assert cli("phase1", root, "--apply").exit_code == 0
    run = _run_job(root)
    assert run.returncode == 0 and run.stdout.strip() == "1", run.stdout + run.stderr


def test_near_miss_a_dependency_only_fastapi_takes_converts(project, reported):
    use = """
SessionDep = Depends(get_session)
app.dependency_overrides[get_session] = get_session
app.add_api_route("/y", x, methods=["GET"])
print(repr(get_session))
"""
    root = project({"app.py": textwrap.dedent(MODULE).replace("{use}", use.strip("\n"))})
    entry = reported(root, "get_session", "phase1")
    assert entry["action"] == "convert", entry
    assert "AM139" not in entry["codes"]
