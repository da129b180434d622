"""Starlette's names the tool knows: what FastAPI re-exports from it."""

from __future__ import annotations

# Runs a blocking function in AnyIO's worker threads (fastapi.concurrency re-exports it).
THREADPOOL = frozenset({"starlette.concurrency.run_in_threadpool"})
# Registration methods Starlette's routers have; FastAPI's inherit them.
REGISTRATION_ATTRS = frozenset({"add_websocket_route", "add_route"})
WEBSOCKET_REGISTRATIONS = frozenset({"add_websocket_route"})
# `app.mount("/v2", sub_app)`: another application served under a path.
MOUNT = "mount"
# `Mount("/m", routes=[Route("/x", endpoint)])`: route objects served under the mount's path (`/m/x`).
MOUNT_CLASSES = frozenset({"starlette.routing.Mount"})
# Route objects built by hand (`routes=[Route("/x", endpoint)]`), each with the registration
# method it stands for: Starlette runs a plain `def` endpoint in its threadpool too.
ROUTE_CLASSES = {"starlette.routing.Route": "add_route", "starlette.routing.WebSocketRoute": "add_websocket_route"}
# Class endpoints: Starlette builds the class per request and runs the methods its base
# dispatches to, each as a handler of the kind given (an HTTPEndpoint runs a plain `def` one
# in its threadpool; a WebSocketEndpoint awaits its hooks on the event loop).
ENDPOINT_CLASSES = {
    "starlette.endpoints.HTTPEndpoint": ("route", ("get", "head", "post", "put", "patch", "delete", "options")),
    "starlette.endpoints.WebSocketEndpoint": ("websocket", ("on_connect", "on_receive", "on_disconnect")),
}

# What an application runs on the event loop besides its routes: hooks by how they are
# registered, each with its kind (middleware and exception handlers run per request,
# lifecycle handlers once, before the first request or after the last).
HOOK_DECORATORS = {"middleware": "middleware", "exception_handler": "exception-handler", "on_event": "lifecycle"}
HOOK_REGISTRATIONS = {
    "add_middleware": "middleware",
    "add_exception_handler": "exception-handler",
    "add_event_handler": "lifecycle",
}
# A router's hook lists appended to (`app.router.on_startup.append(fn)`), and its attribute
# assigned a lifespan (`app.router.lifespan_context = lifespan`).
HOOK_LISTS = {"on_startup": "startup", "on_shutdown": "shutdown"}
HOOK_ATTRIBUTES = {"lifespan_context": "lifespan"}
# Keywords of `Starlette(...)` / `FastAPI(...)` / `APIRouter(...)` naming hooks.
HOOK_KEYWORDS = {
    "middleware": "middleware",
    "exception_handlers": "exception-handler",
    "on_startup": "startup",
    "on_shutdown": "shutdown",
    "lifespan": "lifespan",
}
# The words a lifecycle hook is recorded with, all the `lifecycle` kind: when it runs (before the
# first request, after the last, a lifespan's code before its `yield` and after it), "lifecycle"
# where the event cannot be read. `on_event(...)` and `add_event_handler(...)` name the event.
LIFECYCLE_EVENTS = frozenset({"lifecycle", "startup", "shutdown", "lifespan"})
EVENT_HOOKS = frozenset({"on_event", "add_event_handler"})


def event_kind(attr: str, event: str | None, kind: str) -> str:
    """The kind word of a hook `attr` registers (`on_event`, `add_event_handler`, ...) for the
    `event` it names: "startup" or "shutdown" for those events, else `kind`."""
    return event if attr in EVENT_HOOKS and event in ("startup", "shutdown") else kind
# Background tasks: Starlette runs a plain `def` task in its threadpool and awaits an `async def`
# one on the event loop, after the response. `BackgroundTask(f, ...)` takes the function first;
# a `BackgroundTasks` object's `add_task(f, ...)` does too.
BACKGROUND_TASK = frozenset({"starlette.background.BackgroundTask"})
BACKGROUND_TASKS = frozenset({
    "starlette.background.BackgroundTasks", "fastapi.BackgroundTasks", "fastapi.background.BackgroundTasks"
})
# A streaming response iterates a sync iterator in the threadpool (`iterate_in_threadpool`), an async
# one on the event loop.
STREAMING_RESPONSE = frozenset({"starlette.responses.StreamingResponse", "fastapi.responses.StreamingResponse"})
# A route returning one of these (or a subclass) has it sent as it is: FastAPI validates and
# serialises nothing into the response model then, so the model reads nothing on what it holds.
RESPONSE_CLASSES = frozenset({
    f"{module}.{name}"
    for module in ("starlette.responses", "fastapi.responses")
    for name in (
        "Response", "JSONResponse", "HTMLResponse", "PlainTextResponse", "RedirectResponse",
        "StreamingResponse", "FileResponse",
    )
} | {
    "fastapi.Response", "fastapi.responses.ORJSONResponse", "fastapi.responses.UJSONResponse",
    "sse_starlette.EventSourceResponse", "sse_starlette.sse.EventSourceResponse",
})
# Iterates a sync iterator, each step in AnyIO's worker threads (fastapi.concurrency re-exports it).
ITERATE_IN_THREADPOOL = frozenset({
    "starlette.concurrency.iterate_in_threadpool", "fastapi.concurrency.iterate_in_threadpool"
})
# The test client: each request on an event loop of its own unless it is entered with `with`.
TEST_CLIENTS = frozenset({"starlette.testclient.TestClient"})
MIDDLEWARE_WRAPPERS = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})
APPLICATION_TYPES = frozenset({"starlette.applications.Starlette"})
# What a route, dependency or middleware is handed for the connection: `request.state` is the
# connection's own (per request), unlike `request.app.state`.
REQUEST_TYPES = frozenset({
    "starlette.requests.Request",
    "starlette.requests.HTTPConnection",
    "starlette.websockets.WebSocket",
    "fastapi.Request",
    "fastapi.WebSocket",
    "fastapi.requests.Request",
    "fastapi.requests.HTTPConnection",
    "fastapi.websockets.WebSocket",
})
# The connection's and the application's `state`: a bag of values its `__getattr__` hands out by name.
STATE_TYPES = frozenset({"starlette.datastructures.State", "fastapi.datastructures.State"})
# An uploaded file parameter, and its coroutine methods: FastAPI has spooled the upload before the
# route runs, so a `def` route calls the same method on its `.file` synchronously.
UPLOAD_FILE_TYPES = frozenset({
    "starlette.datastructures.UploadFile", "fastapi.UploadFile", "fastapi.datastructures.UploadFile",
})
UPLOAD_FILE_COROUTINES = frozenset({"read", "seek", "write", "close"})
# The request's methods that read its body, which only a coroutine can (`async for` over `stream()`).
REQUEST_BODY_READS = frozenset({"body", "json", "form", "stream"})
# The parameter after the request in a `BaseHTTPMiddleware.dispatch` or an `@app.middleware("http")`
# function, which names its request parameter however it likes.
CALL_NEXT = "call_next"
# Templates: Starlette's `Jinja2Templates.TemplateResponse` (FastAPI re-exports it) and a Jinja2
# template's rendering methods, with the environment's methods that get a template to call them on;
# a template reads whatever attributes of what it is handed, where no analysis follows.
RENDERING_METHODS = frozenset({
    "TemplateResponse", "render", "render_async", "generate", "generate_async", "stream",
})
TEMPLATE_GETTERS = frozenset({"get_template", "select_template", "get_or_select_template", "from_string"})
# `TemplateResponse(request, name="x.html", status_code=404, ...)`: the template's name and the
# response's own keywords, none of them handed to the template
RESPONSE_KEYWORDS = frozenset({"status_code", "headers", "media_type", "background", "name"})
