"""AM168 registered-through-wrapper: a route registered through a project router's
`add_api_route`/`api_route` override or a project route class that does more with the endpoint
than hand it to FastAPI's own stays `async def`; an override handing it on untouched keeps nothing."""

from __future__ import annotations

import pytest

ROUTING = """
import functools
from typing import get_type_hints

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
            async def wrapped(*args, **kwargs):
                return await func(*args, **kwargs)

            return register(wrapped)

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


class OperationRouter(APIRouter):
    def api_route(self, path, operation_id=None, **kwargs):
        def decorator(func):
            self.add_api_route(path, func, operation_id=operation_id or func.__name__, **kwargs)
            return func

        return decorator


class SlashRouter(APIRouter):
    def api_route(self, path, **kwargs):
        add_path = super().api_route(path, **kwargs)
        add_alternate_path = super().api_route(path + "/", include_in_schema=False, **kwargs)

        def decorator(func):
            add_alternate_path(func)
            return add_path(func)

        return decorator


class ModelRouter(APIRouter):
    def add_api_route(self, path, endpoint, **kwargs):
        if kwargs.get("response_model") is None:
            kwargs["response_model"] = get_type_hints(endpoint).get("return")
        return super().add_api_route(path, endpoint, **kwargs)


class ScopedRoute(APIRoute):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scopes = [d for d in self.dependencies]


class DefaultRouteRouter(APIRouter):
    def __init__(self, **kwargs):
        kwargs.setdefault("route_class", AwaitingRoute)
        super().__init__(**kwargs)


class WrappingChild(TaggedRouter):
    def add_api_route(self, path, endpoint, **kwargs):
        return super().add_api_route(path, endpoint, **kwargs)


class ParentWraps(TimedRouter):
    def add_api_route(self, path, endpoint, **kwargs):
        return super().add_api_route(path, endpoint, **kwargs)


SEEN = []
"""


def routes(router: str) -> str:
    return f"""
        from fastapi import APIRouter

        from routing import (
            AwaitingRoute, CallingRoute, ChildRouter, DecoratingRouter, DefaultRouteRouter, LoggedRoute, ModelRouter,
            OperationRouter, ParentWraps, RegistryRouter, ScopedRoute, SlashRouter, TaggedRouter, TimedRouter,
            WrappingChild,
        )

        router = {router}


        @router.get("/items")
        async def create(session: session_dependency):
            session.execute("select 1")
        """


@pytest.mark.parametrize(
    ("router", "fragment"),
    [
        ("TimedRouter()", "registered through routing.TimedRouter.add_api_route (routing.py:9), which receives the "
         "endpoint and awaits it at routing.py:12"),
        ("ChildRouter()", "registered through routing.TimedRouter.add_api_route"),
        ("RegistryRouter()", "routing.RegistryRouter.add_api_route (routing.py:22), which receives the endpoint and "
         "does more with it than hand it to FastAPI's own, and the analysis cannot see what (unverified)"),
        ("DecoratingRouter()", "routing.DecoratingRouter.api_route (routing.py:28), which receives the endpoint and "
         "awaits it at routing.py:33"),
        ("ParentWraps()", "registered through routing.TimedRouter.add_api_route"),
        ("DefaultRouteRouter()", "registered through routing.AwaitingRoute.__init__"),
        ("APIRouter(route_class=AwaitingRoute)", "routing.AwaitingRoute.__init__ (routing.py:50), which receives the "
         "endpoint and awaits it at routing.py:52"),
        ("APIRouter(route_class=CallingRoute)", "routing.CallingRoute.get_route_handler (routing.py:58), which "
         "receives the endpoint and awaits it at routing.py:60"),
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
    "router",
    [
        "TaggedRouter()", "APIRouter(route_class=LoggedRoute)", "APIRouter()", "OperationRouter()", "SlashRouter()",
        "ModelRouter()", "APIRouter(route_class=ScopedRoute)", "WrappingChild()",
    ],
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
