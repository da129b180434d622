"""AM141 thread-local-state: an `async def` handler using `threading.local()` state, itself or
through a plain helper it calls, stays `async def`: as `def` it would run in a worker thread and
read that thread's values, not what the middleware set on the loop's thread. The premise test
runs the route both ways."""

from __future__ import annotations

import pytest
from sample import run_python

APP = '''
import threading

from fastapi import Depends, FastAPI, Request
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

engine = create_engine("sqlite:///./app.db", connect_args={"check_same_thread": False})
app = FastAPI()
_local = threading.local()


class RequestContext(threading.local):
    user = "anonymous"


context = RequestContext()


class Settings:
    region = "eu"


settings = Settings()


def get_db():
    with Session(engine) as s:
        yield s


@app.middleware("http")
async def tenant(request: Request, call_next):
    _local.tenant = request.headers.get("x-tenant", "public")
    context.user = request.headers.get("x-user", "anonymous")
    return await call_next(request)


def current_user() -> str:
    return context.user


@app.get("/direct")
async def direct(db: Session = Depends(get_db)):
    db.execute(text("select 1"))
    return {"tenant": _local.tenant}


@app.get("/helper")
async def helper(db: Session = Depends(get_db)):
    db.execute(text("select 1"))
    return {"user": current_user()}


@app.get("/settings")
async def region(db: Session = Depends(get_db)):
    db.execute(text("select 1"))
    return {"region": settings.region}
'''


@pytest.mark.parametrize(
    ("function", "said"),
    [
        ("direct", "uses thread-local state `app._local` (threading.local) at line"),
        ("helper", "uses thread-local state `app.context` (threading.local) through `app.current_user` (line"),
    ],
)
def test_a_handler_using_thread_local_state_keeps_with_am141(project, reported, function, said):
    entry = reported(project({"app.py": APP}), function, "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM141"), entry
    assert entry["reasons"][0].startswith(said), entry


def test_near_miss_a_module_level_object_that_is_no_thread_local_converts(project, reported):
    assert reported(project({"app.py": APP}), "region", "phase1")["action"] == "convert"


def test_the_premise_as_def_the_route_reads_a_worker_threads_values(project):
    root = project({"app.py": APP, "app_def.py": APP.replace("async def direct", "def direct")})
    script = (
        "import sys; from fastapi.testclient import TestClient; import importlib; "
        "c = TestClient(importlib.import_module(sys.argv[1]).app, raise_server_exceptions=False); "
        "r = c.get('/direct', headers={'x-tenant': 'acme'}); print(r.status_code, r.text)"
    )
    run = {name: run_python(script, cwd=root, args=(name,))
           for name in ("app", "app_def")}
    assert run["app"].stdout.strip() == '200 {"tenant":"acme"}', run["app"].stdout + run["app"].stderr
    assert run["app_def"].stdout.startswith("500"), run["app_def"].stdout + run["app_def"].stderr
