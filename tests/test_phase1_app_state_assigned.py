"""Sessions and connections taken from the application's state outside a `with`: `db =
request.app.state.sessionmaker()` (or `s = maker()` after `maker = request.app.state.sessionmaker`)
then `db.commit()`; and `request.app.state.engine.connect()` on the engine the lifespan keeps there.
Before, the assigned form read as doing no synchronous Session work where the state's value is
not one the analysis can type (the `with ... as db` form was unverified), and the engine's
connection as no engine work, so `check` passed routes blocking the event loop. Now the first is
unverified (AM125, check AM304), Session work where the application's own code keeps a
sessionmaker there (what the tests swap in counts for the tests only), and the second converts as
engine work does (check AM306)."""

from __future__ import annotations

import json
import os

import pytest
from sample import run_python

MAIN = """
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker


def build_engine(url: str):
    return create_engine(url)


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.engine = build_engine(os.environ["DATABASE_URL"])
    app.state.sessionmaker = sessionmaker(bind=app.state.engine)
    app.state.cache_factory = dict
    yield
    app.state.engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.post("/assigned")
async def assigned(request: Request):
    db = request.app.state.sessionmaker()
    db.execute(text("INSERT INTO notes (body) VALUES ('a')"))
    db.commit()
    db.close()
    return {}


@app.post("/aliased")
async def aliased(request: Request):
    maker = request.app.state.sessionmaker
    s = maker()
    s.commit()
    s.close()
    return {}


@app.get("/connected")
async def connected(request: Request):
    with request.app.state.engine.connect() as conn:
        return {"n": conn.execute(text("SELECT count(*) FROM notes")).scalar_one()}


@app.post("/begun")
async def begun(request: Request):
    engine = request.app.state.engine
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO notes (body) VALUES ('b')"))
    return {}


@app.get("/cached")
async def cached(request: Request):
    cache = request.app.state.cache_factory()
    return {"hit": cache.get("k")}
"""
CONFTEST = """
import pytest
from sqlalchemy.orm import sessionmaker

from main import app


@pytest.fixture()
def swapped(other):
    app.state.sessionmaker = other
    yield
"""


def build(project, untyped: bool = False):  # type: ignore[no-untyped-def]
    main = MAIN
    if untyped:  # what a library builds: the analysis cannot type it
        main = main.replace("sessionmaker(bind=app.state.engine)", "vendor_maker(app.state.engine)").replace(
            "import sessionmaker\n", "import sessionmaker\nfrom vendor_db import vendor_maker\n")
    return project({"main.py": main, "tests/__init__.py": "", "tests/conftest.py": CONFTEST})


def test_assigned_sessions_are_unverified_and_state_engines_are_engine_work(cli, project):
    root = build(project, untyped=True)
    document = cli.json("scan", root)
    found = {h["function"]: (h["action"], h["codes"]) for h in document["handlers"] if h["kind"] == "route"}
    assert found == {
        "assigned": ("keep", ["AM125"]),
        "aliased": ("keep", ["AM125"]),
        "connected": ("convert", ["AM127"]),
        "begun": ("convert", ["AM127"]),
        "cached": ("keep", ["AM105"]),
    }, found
    reasons = {h["function"]: h["reasons"][0] for h in document["handlers"]}
    assert "`db.execute()` is called on what the application's state keeps, set at main.py:17" in reasons["assigned"]
    checked = {f["function"]: f["code"] for f in cli.json("check", root)["findings"]}
    assert checked == {
        "assigned": "AM304", "aliased": "AM304", "connected": "AM306", "begun": "AM306",
    }, checked


@pytest.mark.parametrize("signature", ["lifespan(app: FastAPI)", "lifespan(app)"])
def test_what_the_tests_swap_in_leaves_the_applications_sessionmaker_typed(cli, project, signature):
    # unannotated too: the application hands itself to the lifespan it is built with
    root = build(project)
    main = (root / "main.py").read_text(encoding="utf-8")
    (root / "main.py").write_text(main.replace("lifespan(app: FastAPI)", signature), encoding="utf-8")
    document = cli.json("scan", root)
    found = {h["function"]: (h["action"], h["codes"]) for h in document["handlers"] if h["kind"] == "route"}
    assert found["assigned"] == ("convert", ["AM124"]) and found["aliased"] == ("convert", ["AM124"]), found
    checked = {f["function"]: f["code"] for f in cli.json("check", root)["findings"]}
    assert checked["assigned"] == "AM301" and checked["aliased"] == "AM301", checked


def test_the_state_engine_routes_run_as_def(cli, project):
    root = build(project)
    assert cli("phase1", root, "--apply").exit_code == 0
    text = (root / "main.py").read_text(encoding="utf-8")
    assert "\ndef connected(request: Request):" in text and "\ndef begun(request: Request):" in text, text
    assert "\ndef assigned(request: Request):" in text, text
    script = """
import json
from fastapi.testclient import TestClient
from sqlalchemy import text
from main import app

with TestClient(app) as client:
    with app.state.engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    statuses = [client.post("/begun").status_code, client.post("/assigned").status_code]
    print(json.dumps([statuses, client.get("/connected").json()]))
"""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
           "DATABASE_URL": f"sqlite:///{root / 'app.db'}"}
    result = run_python(script, cwd=root, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [[200, 200], {"n": 2}]


UNTYPED_ENGINE = """
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from sqlalchemy import text

from engines import make_engine


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.engine = make_engine()
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/connected")
async def connected(request: Request):
    with request.app.state.engine.connect() as conn:
        return {"n": conn.execute(text("SELECT 1")).scalar_one()}


@app.get("/begun")
async def begun(request: Request):
    engine = request.app.state.engine
    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
    return {}
"""


def test_an_untyped_engine_on_the_state_makes_its_connections_unverified(cli, project):
    root = project({
        "main.py": UNTYPED_ENGINE,
        "engines.py": "from vendor_db import build\n\n\ndef make_engine():\n    return build()\n",
    })
    document = cli.json("scan", root)
    found = {h["function"]: (h["action"], h["codes"]) for h in document["handlers"] if h["kind"] == "route"}
    assert found == {"connected": ("keep", ["AM125"]), "begun": ("keep", ["AM125"])}, found
    reasons = {h["function"]: h["reasons"][0] for h in document["handlers"]}
    assert "it may be a synchronous engine's connection" in reasons["connected"], reasons
    checked = {f["function"]: f["code"] for f in cli.json("check", root)["findings"]}
    assert checked == {"connected": "AM304", "begun": "AM304"}, checked
