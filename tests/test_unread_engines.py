"""A connection opened on an engine the analysis cannot read (`with make_engine().connect() as
conn: conn.execute(...)`, `make_engine` from a library outside the tool's vocabulary or project
code outside PATH, an attribute of a module-level object such a call built, a local or a
dependency standing for one) read as no work at all, so `check` passed an `async def` route
blocking the event loop on it. It is unverified now (AM125, check AM304); known-async engines,
known clients, the standard library and project classes it reads stay as they were."""

from __future__ import annotations

import json

UNREAD = """
from fastapi import Depends, FastAPI
from sqlalchemy import text

import vendor_db
from vendor_db import make_engine
from settings import settings
from engines import project_engine, annotated_engine

app = FastAPI()


def get_engine():
    return vendor_db.build()


def count(conn):
    return conn.execute(text("SELECT count(*) FROM t")).scalar_one()


@app.get("/called")
async def called():
    with make_engine().connect() as conn:
        return {"n": conn.execute(text("SELECT 1")).scalar_one()}


@app.post("/begun")
async def begun():
    with vendor_db.get_engine().begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    return {}


@app.get("/attribute")
async def attribute():
    with settings.engine.connect() as conn:
        rows = conn.scalars(text("SELECT 1")).all()
    return {"rows": rows}


@app.get("/local")
async def local():
    engine = make_engine()
    conn = engine.connect()
    conn.execute(text("SELECT 1"))
    conn.close()
    return {}


@app.get("/dependency")
async def dependency(engine=Depends(get_engine)):
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {}


@app.get("/handed")
async def handed():
    with make_engine().connect() as conn:
        return {"n": count(conn)}


@app.get("/project")
async def project():
    with project_engine().connect() as conn:
        conn.execute(text("SELECT 1"))
    return {}
"""

ENGINES = """
from vendor_db import build


def project_engine():
    return build()


def annotated_engine() -> "AsyncEngine":
    return build()
"""

NEAR_MISSES = """
import sqlite3

import redis
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from vendor_db import make_engine

app = FastAPI()
async_engine = create_async_engine("sqlite+aiosqlite://")


class Handle:
    def execute(self, statement):
        return statement


class Pool:
    def connect(self):
        return Handle()


async def run(conn):
    return await conn.execute(text("SELECT 1"))


@app.get("/async-with")
async def async_with():
    async with make_engine().connect() as conn:
        await conn.execute(text("SELECT 1"))
    return {}


@app.get("/async-handed")
async def async_handed():
    async with make_engine().connect() as conn:
        await run(conn)
    return {}


@app.get("/async-engine")
async def async_engine_route():
    async with async_engine.begin() as conn:
        await conn.execute(text("SELECT 1"))
    return {}


@app.get("/awaited")
async def awaited():
    conn = make_engine().connect()
    await conn.execute(text("SELECT 1"))
    return {}


@app.get("/stdlib")
async def stdlib():
    with sqlite3.connect(":memory:") as conn:
        conn.execute("SELECT 1")
    return {}


@app.get("/client")
async def client():
    with redis.Redis().connect() as conn:
        conn.execute("PING")
    return {}


@app.get("/project-class")
async def project_class():
    with Pool().connect() as conn:
        conn.execute("SELECT 1")
    return {}


@app.get("/no-statement")
async def no_statement():
    with make_engine().connect() as conn:
        return {"closed": conn.closed}
"""


def _routes(document):
    return {h["function"]: (h["action"], h["codes"]) for h in document["handlers"] if h["kind"] == "route"}


def test_a_connection_of_an_unread_engine_is_unverified(cli, project):
    root = project({
        "main.py": UNREAD,
        "engines.py": ENGINES,
        "settings.py": "from vendor_cfg import load\n\nsettings = load()\n",
    })
    document = cli.json("scan", root)
    unverified = ("keep", ["AM125"])
    names = ("called", "begun", "attribute", "local", "dependency", "handed", "project")
    assert _routes(document) == dict.fromkeys(names, unverified), _routes(document)
    reasons = {h["function"]: h["reasons"][0] for h in document["handlers"]}
    assert "a connection from `vendor_db.make_engine()`, which the analysis cannot read" in reasons["called"], reasons
    assert "it may be a synchronous engine's connection" in reasons["attribute"], reasons
    assert "hands `conn`, a connection from `vendor_db.make_engine()` (line 58), which the analysis cannot read, to `count()`" in (
        reasons["handed"]
    ), reasons
    checked = {f["function"]: f["code"] for f in cli.json("check", root)["findings"]}
    assert checked == dict.fromkeys(names, "AM304"), checked


def test_an_engine_in_project_code_outside_path_is_unread(cli, project):
    root = project({
        "app/__init__.py": "",
        "app/main.py": (
            "from fastapi import FastAPI\nfrom sqlalchemy import text\n\nfrom shared.db import make_engine\n\n"
            "app = FastAPI()\n\n\n@app.get('/x')\nasync def x():\n    with make_engine().begin() as conn:\n"
            "        conn.execute(text('SELECT 1'))\n    return {}\n"
        ),
        "shared/__init__.py": "",
        "shared/db.py": "import os\n\nfrom sqlalchemy import create_engine\n\n\ndef make_engine():\n"
                        "    return create_engine(os.environ['URL'])\n",
    })
    result = cli("check", root / "app", "--format", "json")  # exit 2: PATH may be too deep
    checked = json.loads(result.stdout)
    assert [(f["function"], f["code"]) for f in checked["findings"]] == [("x", "AM304")], checked


def test_known_async_engines_clients_and_readable_code_stay_clean(cli, project):
    root = project({"main.py": NEAR_MISSES})
    document = cli.json("scan", root)
    assert {name for name, (_, codes) in _routes(document).items() if "AM125" in codes} == set(), _routes(document)
    assert cli.json("check", root)["findings"] == []
