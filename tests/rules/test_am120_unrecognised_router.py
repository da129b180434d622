"""AM120 unrecognised-router: routes on a router class the tool does not know are listed and kept."""

from __future__ import annotations

ROUTES = """
from {module} import {cls}

from core.dependencies import session_dependency

api = {cls}()


@api.get("/items")
async def list_items(session: session_dependency):
    return session.execute("select 1").all()
"""


def test_a_route_on_an_inferring_router_is_listed_with_am120(project, app_files, reported):
    root = project({**app_files, "api/__init__.py": "",
                    "api/items.py": ROUTES.format(module="fastapi_utils.inferring_router", cls="InferringRouter")})
    entry = reported(root, "list_items", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM120", "AM116"])  # AM116: what still blocks


def test_near_miss_a_cache_object_is_not_a_router(project, app_files, cli):
    root = project({**app_files, "api/__init__.py": "",
                    "api/items.py": ROUTES.format(module="cachetools", cls="LRUCache")})
    assert "list_items" not in {h["function"] for h in cli.json("phase1", root)["handlers"]}
