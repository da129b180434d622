"""FastAPI's names the tool knows: dependencies, routers, route decorators, the thread pool."""

from __future__ import annotations

from async_migrate.codemods.vocabulary import starlette

DEPENDS_FUNCTION = frozenset({"fastapi.Depends", "fastapi.params.Depends"})
DEPENDS = DEPENDS_FUNCTION | {"fastapi.Security", "fastapi.params.Security"}
THREADPOOL = frozenset({"fastapi.concurrency.run_in_threadpool", *starlette.THREADPOOL})

APPLICATION_TYPES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI"})
# What FastAPI itself puts on an application: anything else read off `request.app` the project set.
APPLICATION_ATTRIBUTES = frozenset({
    "add_api_route", "add_api_websocket_route", "add_exception_handler", "add_middleware", "add_route",
    "api_route", "build_middleware_stack", "contact", "debug", "delete", "dependency_overrides",
    "description", "docs_url", "exception_handler", "exception_handlers", "extra", "frontend", "get",
    "head", "host", "include_router", "license_info", "max_body_size", "middleware", "middleware_stack",
    "mount", "on_event", "openapi", "openapi_external_docs", "openapi_schema", "openapi_tags",
    "openapi_url", "openapi_version", "options", "patch", "post", "put", "redoc_url", "root_path",
    "root_path_in_servers", "router", "routes", "separate_input_output_schemas", "servers", "setup",
    "state", "summary", "swagger_ui_init_oauth", "swagger_ui_oauth2_redirect_url",
    "swagger_ui_parameters", "terms_of_service", "title", "trace", "url_path_for", "user_middleware",
    "version", "webhooks", "websocket", "websocket_route",
})
ROUTER_TYPES = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter", *APPLICATION_TYPES})
INCLUDE_ROUTER = "include_router"
HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
WEBSOCKET_ATTRS = frozenset({"websocket", "websocket_route"})
ROUTE_ATTRS = frozenset({*HTTP_VERBS, "api_route", "route", *WEBSOCKET_ATTRS})
# A router class's methods that FastAPI's decorators and `add_api_route` calls run: an override
# registering what it is given (or what its decorator is applied to) adds no route of its own.
ROUTER_OVERRIDES = frozenset({"api_route", "add_api_route", "add_api_websocket_route", "api_websocket_route"})
REGISTRATION_ATTRS = frozenset({"add_api_route", "add_api_websocket_route", *starlette.REGISTRATION_ATTRS})
WEBSOCKET_REGISTRATIONS = frozenset({"add_api_websocket_route", *starlette.WEBSOCKET_REGISTRATIONS})
ROUTE_CLASSES = {
    "fastapi.routing.APIRoute": "add_api_route",
    "fastapi.routing.APIWebSocketRoute": "add_api_websocket_route",
    **starlette.ROUTE_CLASSES,
}

# fastapi-utils' (and its fork fastapi-restful's) class-based views: `@cbv(router)` rewrites the
# class's `__init__` so that each annotated class attribute is a keyword-only parameter whose
# default is the attribute's value (`db: Session = Depends(get_db)`), set on the instance.
CBV_DECORATORS = frozenset({"fastapi_utils.cbv.cbv", "fastapi_restful.cbv.cbv"})
TEST_CLIENTS = frozenset({"fastapi.testclient.TestClient", *starlette.TEST_CLIENTS})
# Decorators running the function they wrap again and again once the wrapper is called (at start-up:
# `@app.on_event("startup")` above `@repeat_every(seconds=60)`), beside the requests: an `async def`
# on the application's event loop, a plain `def` in the threadpool (fastapi-utils' `_handle_func`,
# and its fork fastapi-restful's).
REPEATING_DECORATORS = frozenset({"fastapi_utils.tasks.repeat_every", "fastapi_restful.tasks.repeat_every"})
# A route class's method building the coroutine FastAPI awaits for each request of its routes
# (`APIRouter(route_class=TimedRoute)`): what that coroutine does runs on the event loop.
ROUTE_HANDLER_BUILDERS = {"fastapi.routing.APIRoute": "get_route_handler"}

# Calls of FastAPI extensions that take the Session, and their async forms.
CALL_MAPPINGS = {
    "fastapi_pagination.ext.sqlalchemy.paginate": "fastapi_pagination.ext.sqlalchemy.apaginate",
    "fastapi_pagination.ext.sqlmodel.paginate": "fastapi_pagination.ext.sqlmodel.apaginate",
}
# fastapi-pagination's calls running a select on the Session (or connection) they are handed,
# `paginate(session, query, params=None, *, ..., transformer=None)`: the page's `items` are the
# objects the select loads, unless a `transformer` replaces them.
PAGINATORS = frozenset({*CALL_MAPPINGS, *CALL_MAPPINGS.values()})
