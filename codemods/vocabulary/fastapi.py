"""FastAPI's names the tool knows: dependencies, routers, route decorators, the thread pool."""

from __future__ import annotations

from async_migrate.codemods.vocabulary import starlette

DEPENDS_FUNCTION = frozenset({"fastapi.Depends", "fastapi.params.Depends"})
DEPENDS = DEPENDS_FUNCTION | {"fastapi.Security", "fastapi.params.Security"}
THREADPOOL = frozenset({"fastapi.concurrency.run_in_threadpool", *starlette.THREADPOOL})

APPLICATION_TYPES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI"})
ROUTER_TYPES = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter", *APPLICATION_TYPES})
INCLUDE_ROUTER = "include_router"
HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
WEBSOCKET_ATTRS = frozenset({"websocket", "websocket_route"})
ROUTE_ATTRS = frozenset({*HTTP_VERBS, "api_route", "route", *WEBSOCKET_ATTRS})
REGISTRATION_ATTRS = frozenset({"add_api_route", "add_api_websocket_route", *starlette.REGISTRATION_ATTRS})
WEBSOCKET_REGISTRATIONS = frozenset({"add_api_websocket_route", *starlette.WEBSOCKET_REGISTRATIONS})
ROUTE_CLASSES = {
    "fastapi.routing.APIRoute": "add_api_route",
    "fastapi.routing.APIWebSocketRoute": "add_api_websocket_route",
    **starlette.ROUTE_CLASSES,
}

TEST_CLIENTS = frozenset({"fastapi.testclient.TestClient", *starlette.TEST_CLIENTS})

# Calls of FastAPI extensions that take the Session, and their async forms.
CALL_MAPPINGS = {
    "fastapi_pagination.ext.sqlalchemy.paginate": "fastapi_pagination.ext.sqlalchemy.apaginate",
}
