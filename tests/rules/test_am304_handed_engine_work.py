"""AM304 unverified-session: a function or bound method handed as a value to a helper that calls
it, where the handed function takes a synchronous engine's connection (`with engine.begin()`)
rather than a Session (feast's `grpc_call(grpc_handler.ListAllFeatureViews, ...)` reaching its
SQL registry): the route had no finding, though the statement ran on the event loop. Near miss:
a handed function doing no database work."""

from __future__ import annotations

ROUTES = """
from sqlalchemy import create_engine, text

engine = create_engine("sqlite://")


class Registry:
    def list_views(self, request, context):
        with engine.begin() as connection:
            return connection.execute(text("select 1")).all()


def list_plain(request, context):
    with engine.connect() as connection:
        return connection.execute(text("select 1")).all()


def label(request, context):
    return "x"


def grpc_call(handler_fn, request):
    return handler_fn(request, context=None)


registry = Registry()


@router.get("/method")
async def handed_method():
    return grpc_call(registry.list_views, 1)


@router.get("/function")
async def handed_function():
    return grpc_call(list_plain, 1)


@router.get("/label")
async def handed_label():
    return grpc_call(label, 1)
"""


def test_a_handed_function_doing_engine_work_is_reported(app, findings):
    root = app(ROUTES)
    for route, name in (("handed_method", "Registry.list_views"), ("handed_function", "list_plain")):
        found = findings(root, route)
        assert [f["code"] for f in found] == ["AM304"], (route, found)
        assert name in found[0]["message"] and "synchronous engine work" in found[0]["message"], found


def test_near_miss_a_handed_function_doing_no_database_work(app, findings):
    assert findings(app(ROUTES), "handed_label") == []
