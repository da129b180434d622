"""Phase one keeps a route whose project decorator, listed above the route decorator, stores the
function in a table a runner awaits: run, the kept service answers and the runner's jobs run. As
`def` (what phase one wrote before) the runner failed (`object NoneType can't be used in 'await'
expression`); a decorator only reading the function still converts its route, which answers."""

from __future__ import annotations

import textwrap

from conftest import write_tree
from sample import run_json

JOBS = """
JOBS = []


def job(fn):
    JOBS.append(fn)
    return fn


def named(fn):
    fn.label = fn.__name__
    return fn


async def run_jobs():
    return [await j() for j in JOBS]
"""
MAIN = """
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from jobs import job, named

engine = create_engine("sqlite:///./x.db", connect_args={"check_same_thread": False})
app = FastAPI()


@job
@app.post("/refresh")
async def refresh():
    with Session(engine) as s:
        return s.execute(text("select 1")).scalar()


@named
@app.get("/plain")
async def plain():
    with Session(engine) as s:
        return s.execute(text("select 2")).scalar()
"""
LOAD = """
import asyncio
import json

from fastapi.testclient import TestClient

from jobs import run_jobs
from main import app

client = TestClient(app, raise_server_exceptions=False)
outcome = {"refresh": client.post("/refresh").status_code, "plain": client.get("/plain").status_code}
try:
    outcome["jobs"] = asyncio.run(run_jobs())
except TypeError as error:
    outcome["jobs"] = str(error)
print(json.dumps(outcome))
"""


def build(tmp_path, main: str):  # type: ignore[no-untyped-def]
    return write_tree(tmp_path / "app", {"main.py": main, "jobs.py": JOBS})


def run(root) -> dict:  # type: ignore[no-untyped-def]
    return run_json(textwrap.dedent(LOAD), cwd=root, timeout=60)


def test_a_route_a_decorator_above_registers_is_kept_and_its_runner_still_runs(cli, tmp_path):
    root = build(tmp_path, MAIN)
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    actions = {h["function"]: (h["action"], "AM139" in h["codes"]) for h in document["handlers"]}
    assert actions == {"refresh": ("keep", True), "plain": ("convert", False)}, actions
    assert run(root) == {"refresh": 200, "plain": 200, "jobs": [1]}


def test_control_the_registered_route_as_def_breaks_the_runner(tmp_path):
    outcome = run(build(tmp_path, MAIN.replace("async def refresh(", "def refresh(")))
    assert outcome["refresh"] == 200 and "can't be used in 'await' expression" in outcome["jobs"], outcome
