"""A Session kept in a ContextVar for the request: what only sets it (`db.set_session(session)`
in a middleware, a helper doing `_current.set(session)`) or only gets it and looks at it
(`s = current_session()` compared to None) does no Session I/O; `check` reported AM308 and
AM301 there, and phase one converted the route. The calls on what it gets are the work: a
route or helper querying it, directly or through a helper, still reports.
"""

from __future__ import annotations

import textwrap

DB = """
from contextvars import ContextVar

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./cv.db")
SessionLocal = sessionmaker(engine)
_current: ContextVar[Session | None] = ContextVar("s", default=None)


def set_session(session: Session):
    return _current.set(session)


def current_session() -> Session:
    session = _current.get()
    if session is None:
        raise RuntimeError("no request session")
    return session


def count_rows() -> int:
    s = _current.get()
    return s.execute(text("select 1")).scalar_one()


def via_helper() -> int:
    return current_session().execute(text("select 1")).scalar_one()
"""
MAIN = """
from fastapi import FastAPI, Request
from sqlalchemy import text

from db import SessionLocal, count_rows, current_session, set_session, via_helper

app = FastAPI()


@app.middleware("http")
async def session_middleware(request: Request, call_next):
    session = SessionLocal()
    token = set_session(session)
    try:
        return await call_next(request)
    finally:
        token.var.reset(token)


@app.get("/n")
async def n():
    s = current_session()
    return {"n": 1 if s is not None else 0}


@app.get("/q")
async def q():
    return {"n": current_session().execute(text("select 1")).scalar_one()}


@app.get("/c")
async def c():
    return {"n": count_rows()}


@app.get("/h")
async def h():
    return {"n": via_helper()}


@app.get("/l")
async def local():
    s = current_session()
    return {"n": s.execute(text("select 1")).scalar_one()}
"""


def test_setting_or_getting_the_context_session_is_no_session_work(cli, project):
    root = project({"db.py": textwrap.dedent(DB), "main.py": textwrap.dedent(MAIN)})
    found = {(f["function"], f["code"], f["line"]) for f in cli.json("check", root)["findings"]}
    assert found == {("q", "AM301", 26), ("c", "AM301", 31), ("h", "AM301", 36), ("local", "AM301", 41)}, found
    scan = {h["function"]: h for h in cli.json("phase1", root)["handlers"]}
    assert (scan["n"]["action"], scan["n"]["codes"]) == ("keep", ["AM105"]), scan["n"]
    assert all(scan[name]["action"] == "convert" for name in ("q", "c", "h", "local")), scan
    # the query on what it got is the work, named where it is made
    assert "line 43 (`s.execute()`)" in scan["local"]["reasons"][0], scan["local"]


RECURSIVE = """
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./rec.db")
SessionLocal = sessionmaker(bind=engine)
app = FastAPI()


def get_db():
    with SessionLocal() as db:
        yield db


def ping(db: Session, n: int) -> int:
    return pong(db, n - 1) if n else db.execute(text("select 1")).scalar_one()


def pong(db: Session, n: int) -> int:
    return ping(db, n - 1) if n else 1


@app.get("/")
async def root(db: Session = Depends(get_db)):
    return {"n": ping(db, 3)}
"""


def test_helpers_handing_the_session_to_each_other_are_read_without_end(cli, project):
    # Whether a helper only keeps the Session it is handed is read from its own body: asking for
    # the whole work of helpers that call each other recursed until Python's limit (an internal
    # error on fides); ping's query is still the route's work.
    root = project({"main.py": textwrap.dedent(RECURSIVE)})
    found = {(f["function"], f["code"]) for f in cli.json("check", root)["findings"]}
    assert found == {("root", "AM301")}, found
    handler = {h["function"]: h for h in cli.json("phase1", root)["handlers"]}["root"]
    assert handler["action"] == "convert", handler
