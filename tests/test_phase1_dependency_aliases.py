"""A dependency named through an alias is the same dependency: `db: SessionDep` with
`SessionDep = Annotated[Session, Depends(get_db)]` (FastAPI's recommended spelling),
`user: Annotated[User, CurrentDb]` with `CurrentDb = Depends(get_db)`, and `db=db_dependency`.
What the dependency hands out (one Session for the whole process, AM126; a thread's
`scoped_session` Session, AM132; a module-level sqlite3 connection, AM144) keeps the route
async whichever way the parameter is written, and `check` flags the `def` form (AM324, AM332,
AM336)."""

from __future__ import annotations

import pytest

HEAD = """
import sqlite3
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, scoped_session, sessionmaker

SessionLocal = sessionmaker(create_engine("sqlite:///./x.db"))
shared_session = SessionLocal()
Registry = scoped_session(sessionmaker(create_engine("sqlite:///./y.db")))
CONN = sqlite3.connect("x.db")


def get_shared():
    yield shared_session


def get_scoped():
    yield Registry()


def get_conn():
    return CONN


def get_db():
    with SessionLocal() as db:
        yield db


app = FastAPI()
"""

# (dependency, the type it hands, the rule keeping the route, check's rule on the `def` form)
PROVIDERS = [
    ("get_shared", "Session", "AM126", "AM324"),
    ("get_scoped", "Session", "AM132", "AM332"),
    ("get_conn", "sqlite3.Connection", "AM144", "AM336"),
]
# how the route's parameter names the dependency: {dep} and {type} filled in
SPELLINGS = {
    "inline": ("", "x: {type} = Depends({dep})"),
    "annotated-alias": ("XDep = Annotated[{type}, Depends({dep})]", "x: XDep"),
    "depends-alias": ("XDepends = Depends({dep})", "x: Annotated[{type}, XDepends]"),
    "default-alias": ("x_dependency = Depends({dep})", "x: {type} = x_dependency"),
}


def service(dep: str, type_: str, spelling: str, prefix: str = "async def") -> str:
    alias, param = SPELLINGS[spelling]
    uses = "x.execute('select 1').fetchall()" if type_.startswith("sqlite3") else "x.execute(text('select 1')).all()"
    return (
        HEAD + alias.format(dep=dep, type=type_) + "\n\n\n"
        f"@app.get('/r')\n{prefix} route({param.format(dep=dep, type=type_)}, db: Session = Depends(get_db)):\n"
        f"    db.execute(text('select 1'))\n    return {uses}\n"
    )


@pytest.mark.parametrize("spelling", list(SPELLINGS))
@pytest.mark.parametrize(("dep", "type_", "kept", "flagged"), PROVIDERS, ids=[p[0] for p in PROVIDERS])
def test_phase_one_keeps_the_route_however_the_dependency_is_named(cli, project, spelling, dep, type_, kept, flagged):
    root = project({"main.py": service(dep, type_, spelling)})
    (route,) = [h for h in cli.json("phase1", root)["handlers"] if h["function"] == "route"]
    assert route["action"] == "keep", route
    assert kept in route["codes"], route


@pytest.mark.parametrize("spelling", list(SPELLINGS))
@pytest.mark.parametrize(("dep", "type_", "kept", "flagged"), PROVIDERS, ids=[p[0] for p in PROVIDERS])
def test_check_flags_the_def_route_however_the_dependency_is_named(cli, project, spelling, dep, type_, kept, flagged):
    root = project({"main.py": service(dep, type_, spelling, prefix="def")})
    codes = {f["code"] for f in cli.json("check", root)["findings"] if f["function"] == "route"}
    assert flagged in codes, codes


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_near_miss_a_dependency_opening_a_session_per_request_converts(cli, project, spelling):
    root = project({"main.py": service("get_db", "Session", spelling)})
    (route,) = [h for h in cli.json("phase1", root)["handlers"] if h["function"] == "route"]
    assert route["action"] == "convert", route
