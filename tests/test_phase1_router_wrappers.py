"""Phase one keeps a route registered through a project router or route class that wraps its
endpoint in `await endpoint(...)`: run, the kept service answers. As `def` (what phase one wrote
before) every request through it failed with 500 (`object int can't be used in 'await'
expression`); a router handing the endpoint on untouched still converts, and answers too."""

from __future__ import annotations

import textwrap

from conftest import write_tree
from sample import run_json

ROUTING = """
import functools

from fastapi import APIRouter
from fastapi.routing import APIRoute


class TimedRouter(APIRouter):
    def add_api_route(self, path, endpoint, **kwargs):
        @functools.wraps(endpoint)
        async def timed(*args, **kw):
            return await endpoint(*args, **kw)

        return super().add_api_route(path, timed, **kwargs)


class AwaitingRoute(APIRoute):
    def __init__(self, path, endpoint, **kwargs):
        @functools.wraps(endpoint)
        async def wrapped(*a, **k):
            return await endpoint(*a, **k)

        super().__init__(path, wrapped, **kwargs)


class TaggedRouter(APIRouter):
    def add_api_route(self, path, endpoint, **kwargs):
        kwargs.setdefault("tags", ["tagged"])
        return super().add_api_route(path, endpoint, **kwargs)
"""
MAIN = """
from fastapi import APIRouter, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from routing import AwaitingRoute, TaggedRouter, TimedRouter

engine = create_engine("sqlite:///./x.db", connect_args={"check_same_thread": False})
app = FastAPI()
timed = TimedRouter()
awaiting = APIRouter(route_class=AwaitingRoute)
tagged = TaggedRouter()
included = APIRouter()


def load(i: int) -> int:
    with Session(engine) as db:
        return db.execute(text("select :i"), {"i": i}).scalar()


@timed.get("/timed")
async def timed_route():
    return load(1)


@awaiting.get("/route-class")
async def route_class_route():
    return load(2)


@tagged.get("/tagged")
async def tagged_route():
    return load(3)


@included.get("/included")
async def included_route():
    return load(4)


timed.include_router(included)
for router in (timed, awaiting, tagged):
    app.include_router(router)
"""
LOAD = """
import json

from fastapi.testclient import TestClient

from main import app

client = TestClient(app, raise_server_exceptions=False)
print(json.dumps({p: client.get(p).status_code for p in ("/timed", "/route-class", "/tagged", "/included")}))
"""


def build(tmp_path, main: str):  # type: ignore[no-untyped-def]
    return write_tree(tmp_path / "app", {"main.py": main, "routing.py": ROUTING})


def run(root) -> dict:  # type: ignore[no-untyped-def]
    return run_json(textwrap.dedent(LOAD), cwd=root, timeout=60)


def test_routes_through_a_wrapping_router_are_kept_and_answer(cli, tmp_path):
    root = build(tmp_path, MAIN)
    document = cli.json("phase1", root, "--apply", "--allow-dirty")
    actions = {h["function"]: (h["action"], "AM168" in h["codes"]) for h in document["handlers"] if h["file"] == "main.py"}
    assert actions == {
        "timed_route": ("keep", True), "route_class_route": ("keep", True), "included_route": ("keep", True),
        "tagged_route": ("convert", False),
    }, actions
    written = (root / "main.py").read_text()
    assert "\ndef tagged_route(" in written and "\nasync def timed_route(" in written, written
    assert run(root) == {"/timed": 200, "/route-class": 200, "/tagged": 200, "/included": 200}


def test_control_the_wrapped_routes_as_def_fail(tmp_path):
    main = MAIN.replace("async def timed_route(", "def timed_route(").replace(
        "async def route_class_route(", "def route_class_route("
    )
    assert run(build(tmp_path, main)) == {"/timed": 500, "/route-class": 500, "/tagged": 200, "/included": 200}
