"""Names of the libraries the tool understands, as absolute references."""

from __future__ import annotations

DEPENDS = frozenset(
    {"fastapi.Depends", "fastapi.Security", "fastapi.params.Depends", "fastapi.params.Security"}
)
ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
THREADPOOL = frozenset(
    {"fastapi.concurrency.run_in_threadpool", "starlette.concurrency.run_in_threadpool"}
)
# Calls that run the function they are given in a worker thread (`loop.run_in_executor` is
# recognised by its method name: the loop is a local object).
OFFLOADERS = frozenset({*THREADPOOL, "asyncio.to_thread", "anyio.to_thread.run_sync"})

ROUTER_TYPES = frozenset(
    {
        "fastapi.APIRouter",
        "fastapi.routing.APIRouter",
        "fastapi.FastAPI",
        "fastapi.applications.FastAPI",
    }
)
HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
WEBSOCKET_ATTRS = frozenset({"websocket", "websocket_route"})
ROUTE_ATTRS = frozenset({*HTTP_VERBS, "api_route", "route", *WEBSOCKET_ATTRS})
REGISTRATION_ATTRS = frozenset({"add_api_route", "add_api_websocket_route", "add_websocket_route", "add_route"})
WEBSOCKET_REGISTRATIONS = frozenset({"add_api_websocket_route", "add_websocket_route"})

SYNC_SESSION_TYPES = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.Session",
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.orm.scoping.scoped_session",
        "sqlmodel.Session",
        "sqlmodel.orm.session.Session",
    }
)
ASYNC_SESSION_TYPES = frozenset(
    {
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlmodel.ext.asyncio.session.AsyncSession",
    }
)
# SQLModel's Session (adds `exec`) and its async counterpart (where `exec` is a coroutine).
SQLMODEL_SESSION_TYPES = frozenset({"sqlmodel.Session", "sqlmodel.orm.session.Session"})
SQLMODEL_ASYNC_SESSION = "sqlmodel.ext.asyncio.session.AsyncSession"
SYNC_SESSIONMAKERS = frozenset(
    {
        "sqlalchemy.orm.sessionmaker",
        "sqlalchemy.orm.session.sessionmaker",
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.orm.scoping.scoped_session",
    }
)
SCOPED_SESSION_MAKERS = frozenset({"sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"})
CONTEXT_MANAGER_DECORATORS = frozenset({"contextlib.contextmanager"})
PROTOCOL_TYPES = frozenset({"typing.Protocol", "typing_extensions.Protocol"})
ASYNC_SESSIONMAKERS = frozenset(
    {"sqlalchemy.ext.asyncio.async_sessionmaker", "sqlalchemy.ext.asyncio.session.async_sessionmaker"}
)

# APIs that need a running event loop in the calling thread: a `def` route runs in a
# worker thread, where they raise or silently do nothing.
EVENT_LOOP_ONLY = frozenset(
    {
        "asyncio.get_running_loop",
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.timeout",
        "asyncio.timeout_at",
        "asyncio.current_task",
        "asyncio.all_tasks",
        "asyncio.get_event_loop",
        "asyncio.TaskGroup",
        "asyncio.gather",
        "asyncio.wait_for",
        "asyncio.shield",
        "anyio.create_task_group",
        "anyio.from_thread.run",
    }
)

# Methods of an event loop object that only work on the loop's own thread (not
# `call_soon_threadsafe`, which exists for calls from other threads).
LOOP_METHODS = frozenset(
    {"call_soon", "call_later", "call_at", "create_task", "create_future", "run_until_complete"}
)

# Session methods that perform I/O on a synchronous Session: the lines a mixed route blocks on.
SESSION_IO_METHODS = frozenset(
    {
        "execute", "exec", "scalars", "scalar", "get", "get_one", "query", "commit", "rollback",
        "flush", "refresh", "delete", "merge", "close", "connection", "begin", "begin_nested",
        "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings",
    }
)
