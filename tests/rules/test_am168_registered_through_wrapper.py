"""AM168 registered-through-wrapper: a route registered through a project router's
`add_api_route`/`api_route` override or a project route class that does more with the endpoint
than hand it to FastAPI's own stays `async def`; an override handing it on untouched keeps nothing."""

from __future__ import annotations

import pytest

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


class ChildRouter(TimedRouter):
    pass


class RegistryRouter(APIRouter):
    def add_api_route(self, path, endpoint, **kwargs):
        SEEN.append(endpoint)
        return super().add_api_route(path, endpoint, **kwargs)


class DecoratingRouter(APIRouter):
    def api_route(self, path, **kwargs):
        register = super().api_route(path, **kwargs)

        def decorator(func):
            return register(func)

        return decorator


class TaggedRouter(APIRouter):
    def add_api_route(self, path, endpoint, **kwargs):
        kwargs.setdefault("tags", ["tagged"])
        return super().add_api_route(path, endpoint, **kwargs)

    def api_route(self, path, **kwargs):
        return super().api_route(path, **kwargs)


class AwaitingRoute(APIRoute):
    def __init__(self, path, endpoint, **kwargs):
        async def wrapped(*a, **k):
            return await endpoint(*a, **k)

        super().__init__(path, wrapped, **kwargs)


class CallingRoute(APIRoute):
    def get_route_handler(self):
        async def handler(request):
            return await self.endpoint()

        return handler


class LoggedRoute(APIRoute):
    def __init__(self, path, endpoint, **kwargs):
        kwargs.setdefault("name", path)
        super().__init__(path, endpoint=endpoint, **kwargs)

    def get_route_handler(self):
        original = super().get_route_handler()

        async def handler(request):
            return await original(request)

        return handler


SEEN = []
"""


def routes(router: str) -> str:
    return f"""
        from fastapi import APIRouter

        from routing import (
            AwaitingRoute, CallingRoute, ChildRouter, DecoratingRouter, LoggedRoute, RegistryRouter, TaggedRouter,
            TimedRouter,
        )

        router = {router}


        @router.get("/items")
        async def create(session: session_dependency):
            session.execute("select 1")
        """


@pytest.mark.parametrize(
    ("router", "fragment"),
    [
        ("TimedRouter()", "registered through routing.TimedRouter.add_api_route (routing.py:8), which receives the "
         "endpoint and awaits it at routing.py:11"),
        ("ChildRouter()", "registered through routing.TimedRouter.add_api_route"),
        ("RegistryRouter()", "routing.RegistryRouter.add_api_route (routing.py:21), which receives the endpoint and "
         "does more with it than hand it to FastAPI's own, and the analysis cannot see what (unverified)"),
        ("DecoratingRouter()", "routing.DecoratingRouter.api_route"),
        ("APIRouter(route_class=AwaitingRoute)", "routing.AwaitingRoute.__init__ (routing.py:46), which receives the "
         "endpoint and awaits it at routing.py:48"),
        ("APIRouter(route_class=CallingRoute)", "routing.CallingRoute.get_route_handler (routing.py:54), which "
         "receives the endpoint and awaits it at routing.py:56"),
    ],
)
def test_a_route_registered_through_a_wrapping_router_is_kept_with_am168(app, reported, router, fragment):
    root = app(routes(router), {"routing.py": ROUTING})
    entry = reported(root, "create", "phase1")
    assert entry["action"] == "keep", entry
    assert "AM168" in entry["codes"], entry
    reason = entry["reasons"][entry["codes"].index("AM168")]
    assert fragment in reason, reason


@pytest.mark.parametrize(
    "router", ["TaggedRouter()", "APIRouter(route_class=LoggedRoute)", "APIRouter()"],
)
def test_near_miss_an_override_handing_the_endpoint_on_untouched_converts(app, reported, router):
    root = app(routes(router), {"routing.py": ROUTING})
    entry = reported(root, "create", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM101"]), entry


def test_a_router_included_into_a_wrapping_router_is_kept(app, reported):
    # include_router adds each route again through the including router's add_api_route
    source = routes("APIRouter()") + '\n        outer = TimedRouter()\n        outer.include_router(router)\n'
    entry = reported(app(source, {"routing.py": ROUTING}), "create", "phase1")
    assert "AM168" in entry["codes"], entry
