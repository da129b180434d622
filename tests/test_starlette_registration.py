"""Starlette-style registration found as handlers, so `check` judges their Session work:
`app.add_route`, `app.add_websocket_route`, `router.add_api_route(..., endpoint=...)`, and
`Route`/`WebSocketRoute`/`Mount` lists (a display, one appended to or extended with `+=`), with
function endpoints and `HTTPEndpoint`/`WebSocketEndpoint` classes (each method a route of the
kind). Each shape's endpoint opens a Session on the loop: AM301 for it, in its own kind."""

from __future__ import annotations

import pytest

VIEWS = """
from sqlalchemy import text
from starlette.endpoints import HTTPEndpoint, WebSocketEndpoint
from starlette.responses import JSONResponse

from db.engine import database_sessionmaker


async def unregistered(request):
    db = database_sessionmaker()
    return JSONResponse({"n": db.execute(text("select 1")).scalar_one()})


class Items(HTTPEndpoint):
    async def get(self, request):
        db = database_sessionmaker()
        return JSONResponse({"n": db.execute(text("select 1")).scalar_one()})


class Listed(HTTPEndpoint):
    async def get(self, request):
        db = database_sessionmaker()
        return JSONResponse({"n": db.execute(text("select 1")).scalar_one()})


class Feed(WebSocketEndpoint):
    async def on_receive(self, websocket, data):
        db = database_sessionmaker()
        await websocket.send_json(db.execute(text("select 1")).scalar_one())


FUNCTIONS
"""

NAMES = ("added", "socket", "api_added", "mounted", "appended", "extended", "in_factory")

MAIN = """
from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount, Route, WebSocketRoute

from views import Feed, Items, Listed, added, api_added, appended, extended, in_factory, mounted, socket

routes = [Route("/listed", Listed), WebSocketRoute("/feed", Feed), Mount("/m", routes=[Route("/x", mounted)])]
routes.append(Route("/appended", appended))
routes += [Route("/extended", extended)]
app = FastAPI(routes=routes)
app.add_route("/added", added)
app.add_route("/items", Items)
app.add_websocket_route("/socket", socket)
router = APIRouter()
router.add_api_route("/api", endpoint=api_added, methods=["GET"])
app.include_router(router)


def create_app():
    return Starlette(routes=[Route("/f", in_factory)])
"""


def _function(name: str) -> str:
    head = "async def socket(websocket):" if name == "socket" else f"async def {name}(request):"
    return f"{head}\n    db = database_sessionmaker()\n    db.execute(text(\"select 1\"))\n"


@pytest.fixture(scope="module")
def found(tmp_path_factory) -> dict:  # type: ignore[no-untyped-def]
    from conftest import ENGINE, Cli, write_tree

    views = VIEWS.replace("FUNCTIONS", "\n\n".join(_function(name) for name in NAMES))
    root = write_tree(tmp_path_factory.mktemp("starlette") / "app", {
        "db/__init__.py": "", "db/engine.py": ENGINE, "views.py": views, "main.py": MAIN,
    })
    return Cli().json("check", root)


@pytest.mark.parametrize(
    ("function", "kind"),
    [
        ("added", "route"), ("Items.get", "route"), ("socket", "websocket handler"), ("api_added", "route"),
        ("Listed.get", "route"), ("Feed.on_receive", "websocket handler"), ("mounted", "route"),
        ("appended", "route"), ("extended", "route"), ("in_factory", "route"),
    ],
)
def test_a_starlette_style_endpoint_is_judged_as_a_handler(found, function, kind):
    # `routes += [Route(...)]` was read as a value handed elsewhere (AM322), not a route
    mine = [f for f in found["findings"] if f["function"] == function]
    assert [f["code"] for f in mine] == ["AM301"], mine
    assert mine[0]["message"].startswith(f"async def {kind} does synchronous Session work"), mine[0]


def test_near_miss_the_same_endpoint_no_route_names_is_not_judged(found):
    assert [f for f in found["findings"] if f["function"] == "unregistered"] == []


def test_a_route_in_a_mount_is_served_under_the_mount_path(found):
    # the mount's path was dropped: `/x`, where Starlette serves `/m/x`
    paths = {f["function"]: f["path"] for f in found["findings"]}
    assert (paths["mounted"], paths["Listed.get"]) == ("/m/x", "/listed")


def test_nested_mounts_join_their_paths_and_an_unread_one_leaves_the_path_unknown():
    from async_migrate.codemods.astcollect import collect

    module = collect("main.py", (
        "from starlette.routing import Mount, Route\n"
        "from views import a, b, c\n"
        "PREFIX = make()\n"
        "routes = [Mount('/api/', routes=[Mount('/v1', routes=(Route('/a', a),)), Route('/b', b)]),\n"
        "          Mount(PREFIX, routes=[Route('/c', c)])]\n"
    ))
    assert {r.endpoint: r.path for r in module.registrations} == {"views.a": "/api/v1/a", "views.b": "/api/b", "views.c": None}
