"""A value declared `sessionmaker[Session]` (a dependency `def get_maker() -> sessionmaker[Session]`,
a parameter `maker: sessionmaker[Session]`, an `Annotated[sessionmaker[Session], Depends(...)]`
alias, a lifespan's `app.state.sessionmaker = build_sessionmaker(engine)`) was read as a Session,
the annotation naming `Session`: `get_maker` counted as a session dependency doing more than open
and yield (AM271), which blocked phase two for every route, also those only taking `get_db`'s
Session; and the lifespan storing it read as opening a Session. It declares a sessionmaker now:
calling it opens a Session."""

from __future__ import annotations

import json
import os

from sample import run_python

DB = """
import os
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"], connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


def get_db() -> Iterator[Session]:
    with SessionLocal() as db:
        yield db


def get_maker() -> sessionmaker[Session]:
    return SessionLocal


DbSession = Annotated[Session, Depends(get_db)]
MakerDep = Annotated[sessionmaker[Session], Depends(get_maker)]
"""
API = """
from fastapi import APIRouter, Depends
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from db import DbSession, MakerDep, get_maker

router = APIRouter()


@router.post("/notes")
def add(db: DbSession):
    db.execute(text("INSERT INTO notes (body) VALUES ('x')"))
    db.commit()
    return {}


@router.get("/aliased")
def aliased(maker: MakerDep):
    with maker() as s:
        return {"n": s.execute(text("SELECT count(*) FROM notes")).scalar_one()}


@router.get("/declared")
def declared(maker: sessionmaker[Session] = Depends(get_maker)):
    s = maker()
    try:
        return {"n": s.execute(text("SELECT count(*) FROM notes")).scalar_one()}
    finally:
        s.close()
"""
MAIN = """
from fastapi import FastAPI

import api

app = FastAPI()
app.include_router(api.router)
"""


def test_a_sessionmaker_dependency_is_no_session_dependency_and_the_session_routes_move(cli, project):
    root = project({"db.py": DB, "api.py": API, "main.py": MAIN})
    document = cli.json("phase2", root, "-s", "api.py", "--apply")
    found = {h["function"]: (h["action"], h["codes"]) for h in document["handlers"]}
    assert found["add"][0] == "migrate", found
    assert found["aliased"][0] == "blocked" and found["declared"][0] == "blocked", found
    assert all("AM271" not in codes for _, codes in found.values()), found
    text = (root / "api.py").read_text(encoding="utf-8")
    assert "async def add(db: async_session_dependency):" in text, text
    script = """
import json
from fastapi.testclient import TestClient
from sqlalchemy import text
from db import engine, async_engine
from main import app

with engine.begin() as conn:
    conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
with TestClient(app) as client:
    statuses = [client.post("/notes").status_code for _ in range(2)]
    seen = [client.get("/aliased").json(), client.get("/declared").json()]
    client.portal.call(async_engine.dispose)
print(json.dumps([statuses, seen]))
"""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
           "DATABASE_URL": f"sqlite:///{root / 'app.db'}"}
    result = run_python(script, cwd=root, env=env, warnings=("error::RuntimeWarning",))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [[200, 200], [{"n": 2}, {"n": 2}]]


def test_a_lifespan_storing_a_built_sessionmaker_opens_no_session(cli, project):
    main = """
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker


def build_sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=create_engine(url))


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.sessionmaker = build_sessionmaker("sqlite://")
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/one")
async def one(request: Request):
    with request.app.state.sessionmaker() as db:
        return {"one": db.execute(text("SELECT 1")).scalar_one()}
"""
    root = project({"main.py": main})
    document = cli.json("scan", root)
    found = {h["function"]: (h["action"], h["codes"], h["reasons"]) for h in document["handlers"]}
    assert found["one"][:2] == ("convert", ["AM124"]), found
    assert not any("Session work" in r and "still blocks" in r for r in found["lifespan"][2]), found["lifespan"]
