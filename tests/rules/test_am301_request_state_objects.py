"""AM301 for a repository or unit of work a middleware (or dependency) builds on the request's
state: `request.state.repo = Repo(db)` around `call_next`, then `request.state.repo.count()` (or
`repo = request.state.repo; repo.count()`) in an `async def` route, `Repo.count` running a
statement on its Session. `check` said "no findings" and scan "does no synchronous Session work"
while the SELECT ran on the event loop (found by a new-user trial): the value flow read only a
Session or Connection kept there. Near miss: an object holding no Session kept there."""

from __future__ import annotations

import pytest

DB = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

SessionLocal = sessionmaker(create_engine("sqlite://"))


class Repo:
    def __init__(self, db: Session):
        self.db = db

    def count(self) -> int:
        return self.db.execute(text("select 1")).scalar()


class Clock:
    def count(self) -> int:
        return 1
"""
MAIN = """
from fastapi import FastAPI, Request

from state_db import Clock, Repo, SessionLocal

app = FastAPI()


@app.middleware("http")
async def attach(request: Request, call_next):
    with SessionLocal() as db:
        request.state.repo = Repo(db)
        request.state.clock = Clock()
        return await call_next(request)


@app.get("/count")
async def count(request: Request):
    return {"n": request.state.repo.count()}


@app.get("/alias")
async def alias(request: Request):
    repo = request.state.repo
    return {"n": repo.count()}


@app.get("/clock")
async def clock(request: Request):
    return {"n": request.state.clock.count()}
"""
def _root(project):  # type: ignore[no-untyped-def]
    return project({"state_db.py": DB, "state_main.py": MAIN})


@pytest.mark.parametrize("name", ["count", "alias"])
def test_a_method_of_an_object_kept_on_the_request_state_doing_session_work_is_am301(project, findings, name):
    found = findings(_root(project), name)
    assert [f["code"] for f in found] == ["AM301"], found
    assert "state_db.Repo.count(...)" in found[0]["message"], found[0]["message"]


def test_near_miss_an_object_holding_no_session(project, findings, reported):
    root = _root(project)
    assert findings(root, "clock") == []
    assert reported(root, "clock")["codes"] == ["AM105"]
