"""A router's prefix set where its construction does not spell it: an `APIRouter` subclass whose
`__init__` (or a classmethod) changes it, a factory building it from its parameters (f-string,
`+`, `.format`), an `include_router(prefix=...)` of a variable. Each route's path is either the one
FastAPI serves (the app is imported and its routes compared) or marked incomplete; before, the
subclass's and the module-level factory result's routes showed a complete path without the prefix."""

from __future__ import annotations

import json

import pytest
from sample import run_python

ROUTING = """
from fastapi import APIRouter


class VersionedRouter(APIRouter):
    def __init__(self, *a, **kw):
        kw["prefix"] = "/v1" + kw.get("prefix", "")
        super().__init__(*a, **kw)


class Tagged(APIRouter):
    def __init__(self, **kwargs):
        kwargs.setdefault("tags", ["tagged"])
        super().__init__(**kwargs)


class Built(APIRouter):
    @classmethod
    def create(cls, prefix: str) -> "Built":
        return cls(prefix="/v2" + prefix)


def make_router(name: str) -> APIRouter:
    r = APIRouter(prefix=f"/{name}")
    return r


def joined(name: str) -> APIRouter:
    r = APIRouter(prefix="/api/" + name)
    return r


def formatted(name: str, version: str = "v3") -> APIRouter:
    r = APIRouter(prefix="/{}/{v}".format(name, v=version))
    return r


def shifted(prefix: str) -> APIRouter:
    prefix = "/x" + prefix
    r = APIRouter(prefix=prefix)
    return r


def moved(name: str) -> APIRouter:
    r = APIRouter(prefix=f"/{name}")
    r.prefix = "/elsewhere"
    return r
"""
# Each route does synchronous Session work in an async def, so `check` lists it too.
ROUTE = """

@{router}.get("{path}")
async def {router}_route(session: session_dependency):
    return session.execute("select 1").all()
"""
ROUTES = """
import os

from api.routing import Built, Tagged, VersionedRouter, formatted, joined, make_router, moved, shifted
from core.dependencies import session_dependency

versioned = VersionedRouter(prefix="/books")
tagged = Tagged(prefix="/tagged")
built = Built.create("/built")
made = make_router("made")
plus = joined("plus")
fmt = formatted("fmt")
shift = shifted("/shift")
move = moved("move")
env = make_router(os.environ.get("NAME", "env"))
""" + "".join(
    ROUTE.format(router=router, path=path) for router, path in [
        ("versioned", "/{id}"), ("tagged", "/t"), ("built", "/b"), ("made", "/{id}"), ("plus", "/p"),
        ("fmt", "/f"), ("shift", "/s"), ("move", "/m"), ("env", "/e"),
    ]
)
MAIN = """
import os

from fastapi import APIRouter, FastAPI

from api import routes
from core.dependencies import session_dependency

PREFIX = os.environ.get("PREFIX", "/configured")
app = FastAPI()
app.include_router(routes.versioned)
app.include_router(routes.tagged)
app.include_router(routes.built)
app.include_router(routes.made)
app.include_router(routes.plus)
app.include_router(routes.fmt)
app.include_router(routes.shift)
app.include_router(routes.move)
app.include_router(routes.env)
variable = APIRouter()


@variable.get("/v")
async def variable_route(session: session_dependency):
    return session.execute("select 1").all()


app.include_router(variable, prefix=PREFIX)
"""
KNOWN = {
    "tagged_route": "/tagged/t", "made_route": "/made/{id}", "plus_route": "/api/plus/p", "fmt_route": "/fmt/v3/f",
}
UNKNOWN = {
    "versioned_route": "[unknown prefix]/{id}", "built_route": "[unknown prefix]/b", "shift_route": "[unknown prefix]/s",
    "move_route": "[unknown prefix]/m", "env_route": "[unknown prefix]/e", "variable_route": "[unknown prefix]/v",
}


@pytest.fixture
def root(project, app_files):  # type: ignore[no-untyped-def]
    return project({**app_files, "api/__init__.py": "", "api/routing.py": ROUTING, "api/routes.py": ROUTES, "main.py": MAIN})


def served(root) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What FastAPI itself serves each endpoint at, by the summary it derives from the function's name."""
    script = "import json, main; print(json.dumps(main.app.openapi()['paths']))"
    done = run_python(script, cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    return {
        operation["summary"].lower().replace(" ", "_"): path
        for path, operations in json.loads(done.stdout).items() for operation in operations.values()
    }


@pytest.mark.parametrize("command", ["scan", "phase1", "check"])
def test_a_complete_path_is_the_one_fastapi_serves_and_a_prefix_out_of_sight_is_marked(cli, root, command):
    document = cli.json(command, root)
    entries = document["findings"] if command == "check" else document["handlers"]
    shown = {e["function"]: (e["path"], e.get("path_incomplete", False)) for e in entries if e["kind"] == "route"}
    assert shown == {
        **{name: (path, False) for name, path in KNOWN.items()}, **{name: (path, True) for name, path in UNKNOWN.items()}
    }
    actual = served(root)
    for name, (path, incomplete) in shown.items():
        if not incomplete:
            assert actual[name] == path, (name, actual[name])
        else:  # the tail it keeps is the served path's
            assert actual[name].endswith(path.removeprefix("[unknown prefix]")) and actual[name] != path, name


def test_the_text_marks_the_subclass_route_incomplete(cli, root):
    output = cli("scan", root).output
    assert "versioned_route (route GET [unknown prefix]/{id})" in output
    assert "made_route (route GET /made/{id})" in output
