"""AM308 blocking-middleware: `check` reports middleware doing synchronous Session work on the loop,
in each shape an application registers one."""

from __future__ import annotations

import pytest

ROUTES = """
@router.get("")
def read_items():
    return []
"""

HEAD = """
from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware

from api.items import router
from db.engine import database_sessionmaker
"""

DECORATED = HEAD + """
app = FastAPI()
app.include_router(router)


@app.middleware("http")
async def api_key(request, call_next):
    with database_sessionmaker() as session:
        session.execute("select 1")
    return await call_next(request)
"""

DISPATCH = HEAD + """
class KeyMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        with database_sessionmaker() as session:
            session.execute("select 1")
        return await call_next(request)


app = FastAPI()
app.include_router(router)
app.add_middleware(KeyMiddleware)
"""

ASGI = HEAD + """
class KeyMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        with database_sessionmaker() as session:
            session.execute("select 1")
        await self.app(scope, receive, send)


app = FastAPI(middleware=[Middleware(KeyMiddleware)])
app.include_router(router)
"""

FACTORY = HEAD + """
class KeyMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        with database_sessionmaker() as session:
            session.execute("select 1")
        return await call_next(request)


def create_app():
    app = FastAPI()
    app.include_router(router)
    app.add_middleware(KeyMiddleware)
    return app
"""

NESTED = HEAD + """
async def audit(request, call_next):
    with database_sessionmaker() as session:
        session.execute("select 1")
    return await call_next(request)


def create_app():
    app = FastAPI()
    app.include_router(router)
    app.middleware("http")(audit)

    @app.middleware("http")
    async def api_key(request, call_next):
        with database_sessionmaker() as session:
            session.execute("select 1")
        return await call_next(request)

    return app
"""

# `BaseHTTPMiddleware` itself given the function to run as its `dispatch`.
BY_DISPATCH = HEAD + """
async def audit(request, call_next):
    with database_sessionmaker() as session:
        session.execute("select 1")
    return await call_next(request)


async def stamp(request, call_next):
    with database_sessionmaker() as session:
        session.execute("select 1")
    return await call_next(request)


app = FastAPI(middleware=[Middleware(BaseHTTPMiddleware, dispatch=stamp)])
app.include_router(router)
app.add_middleware(BaseHTTPMiddleware, dispatch=audit)
"""


@pytest.mark.parametrize(
    ("main", "function"),
    [
        (BY_DISPATCH, "audit"),
        (BY_DISPATCH, "stamp"),
        (DECORATED, "api_key"),
        (DISPATCH, "KeyMiddleware.dispatch"),
        (ASGI, "KeyMiddleware.__call__"),
        (FACTORY, "KeyMiddleware.dispatch"),
        (NESTED, "audit"),
        (NESTED, "create_app.<locals>.api_key"),
    ],
    ids=["add-middleware-dispatch", "middleware-list-dispatch", "decorator", "base-http-dispatch", "pure-asgi", "app-factory", "decorator-by-hand", "nested-in-factory"],
)
def test_check_reports_blocking_middleware_with_am308(app, findings, cli, main, function):
    root = app(ROUTES, {"main.py": main})
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM308"]
    assert found[0]["kind"] == "middleware"
    assert "on every request it handles" in found[0]["message"]
    assert "run_in_threadpool" in found[0]["message"]
    assert cli("check", root).exit_code == 1


def test_near_miss_middleware_without_session_work_is_no_finding(app, findings, cli):
    root = app(
        ROUTES,
        {"main.py": HEAD + """
class Timing(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        request.state.seen = True
        return await call_next(request)


app = FastAPI()
app.include_router(router)
app.add_middleware(Timing)


@app.middleware("http")
async def header(request, call_next):
    response = await call_next(request)
    response.headers["x-ok"] = "1"
    return response
"""},
    )
    assert findings(root, "Timing.dispatch") == []
    assert findings(root, "header") == []
    assert cli("check", root).exit_code == 0


SHARED = HEAD + """
app = FastAPI()
app.include_router(router)

db = database_sessionmaker()


@app.middleware("http")
async def log_requests(request, call_next):
    response = await call_next(request)
    db.execute("select 1")
    db.commit()
    return response
"""


def test_a_middleware_on_the_module_global_session_is_not_told_to_offload_it(app, findings, reported):
    # Moving the work into run_in_threadpool as it is would use the process's one Session from a
    # worker thread beside the requests on the event loop: the fix says to open one there.
    root = app(ROUTES, {"main.py": SHARED})
    found = findings(root, "log_requests")
    assert [f["code"] for f in found] == ["AM308"]
    caveat = "not on the Session it uses now (main.py:17): `db`, created once at import time (main.py:11), is one " \
        "Session the whole process shares"
    assert caveat in found[0]["message"], found[0]["message"]
    assert "have the helper open its own Session" in found[0]["message"]
    assert caveat in reported(root, "log_requests", "phase1")["reasons"][0]


def test_near_miss_a_middleware_opening_its_own_session_gets_no_caveat(app, findings, reported):
    root = app(ROUTES, {"main.py": DECORATED})
    assert "not on the Session it uses now" not in findings(root, "api_key")[0]["message"]
    assert "not on the Session it uses now" not in reported(root, "api_key", "phase1")["reasons"][0]


# A Flask-style teardown: the middleware only removes the registry's Session after the request.
# `remove()` closes the event loop thread's Session, whose connection the pool rolls back.
TEARDOWN = HEAD + """
from sqlalchemy.orm import scoped_session

ScopedSession = scoped_session(database_sessionmaker)
pending = []


class Teardown(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        try:
            return await call_next(request)
        finally:
            {removed}.remove({argument})


app = FastAPI()
app.include_router(router)
app.add_middleware(Teardown)
"""


def test_a_middleware_removing_the_registrys_session_is_am308(app, findings, reported):
    root = app(ROUTES, {"main.py": TEARDOWN.replace("{removed}", "ScopedSession").replace("{argument}", "")})
    kept = reported(root, "Teardown.dispatch", "phase1")["reasons"][0]
    assert "move it into a plain def helper" not in kept and "not in `run_in_threadpool`" in kept, kept
    found = findings(root, "Teardown.dispatch")
    assert [f["code"] for f in found] == ["AM308"], found
    assert "ScopedSession.remove()" in found[0]["message"]
    # offloaded, the `remove()` would empty the worker's registry and leave the loop thread's Session
    # open: the fix must not send it to the threadpool
    message = found[0]["message"]
    assert "in a worker thread it reaches that thread's Session, not the event loop thread's" in message
    # one fix, not "move it into run_in_threadpool" followed by "but not this call": the call is all there is
    assert "move the Session work into a plain def helper" not in message, message
    assert "closes the Session the registry keeps for the event loop thread" in message
    assert "hands its connection back to the pool, which rolls it back" in message
    assert "after which `await run_in_threadpool(ScopedSession.remove)`" in message


def test_near_miss_a_middleware_removing_from_a_list_is_no_finding(app, findings):
    root = app(ROUTES, {"main.py": TEARDOWN.replace("{removed}", "pending").replace("{argument}", "request")})
    assert findings(root, "Teardown.dispatch") == []


# The same teardown on a registry scoped to the request (the shape AM132 asks for): `remove()`
# closes the request's Session, which its `def` routes used in the threadpool, and the pool
# rolls its connection back on the event loop. Offloaded, it runs in the request's context
# (run_in_threadpool copies it), so the scope's key is the same.
REQUEST_TEARDOWN = HEAD + """
from contextvars import ContextVar
from uuid import uuid4

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import scoped_session

request_scope: ContextVar[str] = ContextVar("request_scope", default="-")
ScopedSession = scoped_session(database_sessionmaker, scopefunc=request_scope.get)


@app.middleware("http")
async def session_scope(request, call_next):
    token = request_scope.set(uuid4().hex)
    try:
        return await call_next(request)
    finally:
        {removal}
        request_scope.reset(token)
""".replace("from api.items import router\n", "from api.items import router\n\napp = FastAPI()\napp.include_router(router)\n")


@pytest.mark.parametrize(
    ("removal", "expected"),
    [("ScopedSession.remove()", ["AM308"]), ("await run_in_threadpool(ScopedSession.remove)", [])],
    ids=["on-the-loop", "offloaded"],
)
def test_a_middleware_removing_a_request_scoped_registrys_session_is_am308(app, findings, removal, expected):
    root = app(ROUTES, {"main.py": REQUEST_TEARDOWN.replace("{removal}", removal)})
    found = findings(root, "session_scope")
    assert [f["code"] for f in found] == expected, found
    if expected:
        assert "at line 24 (ScopedSession.remove())" in found[0]["message"], found
        assert "in a worker thread it reaches that thread's Session" not in found[0]["message"], found


@pytest.mark.parametrize(
    ("removal", "expected"),
    [("ScopedSession.remove()", ["AM308"]), ("await run_in_threadpool(ScopedSession.remove)", [])],
    ids=["on-the-loop", "offloaded"],
)
def test_taking_the_request_scoped_registrys_session_onto_the_request_state_is_no_blocking_work(
    app, findings, reported, removal, expected
):
    # `request.state.db = ScopedSession()` builds the request's Session: no I/O until a statement
    # runs, which its routes do. Only the `remove()` does I/O on the loop (the pool's rollback).
    main = REQUEST_TEARDOWN.replace("{removal}", removal).replace(
        "    try:\n        return await call_next", "    request.state.db = ScopedSession()\n    try:\n        return await call_next"
    )
    root = app(ROUTES, {"main.py": main})
    found = findings(root, "session_scope")
    assert [f["code"] for f in found] == expected, found
    if expected:
        kept = reported(root, "session_scope", "phase1")["reasons"]
        assert not any("request.state.db = ScopedSession()" in reason for reason in kept), kept
        message = found[0]["message"]
        assert "at line 25 (ScopedSession.remove())," in message and "ScopedSession()" not in message.split(";")[0]
        assert "closes the request's Session" in message
        assert "fix: `await run_in_threadpool(ScopedSession.remove)`" in message


def test_near_miss_a_session_the_middleware_opens_and_queries_still_blocks(app, findings):
    root = app(ROUTES, {"main.py": DECORATED.replace(
        "    with database_sessionmaker() as session:\n        session.execute(\"select 1\")",
        "    request.state.db = database_sessionmaker()\n    session = database_sessionmaker()\n"
        "    session.execute(\"select 1\")",
    )})
    found = findings(root, "api_key")
    assert [f["code"] for f in found] == ["AM308"], found
    assert "session.execute()" in found[0]["message"] and "request.state.db" not in found[0]["message"], found


def test_a_request_scoped_registry_kept_on_app_state_at_import_is_told_to_offload(app, findings):
    # before, its `scopefunc=` was not read: the advice was to scope the registry to the request
    main = REQUEST_TEARDOWN.replace(
        "ScopedSession = scoped_session(", "app = FastAPI()\napp.state.registry = scoped_session("
    ).replace("{removal}", "request.app.state.registry.remove()")
    [finding] = findings(app(ROUTES, {"main.py": main}), "session_scope")
    message = finding["message"]
    assert "fix: `await run_in_threadpool(request.app.state.registry.remove)`" in message, message
    assert "in a worker thread it reaches that thread's Session" not in message, message


def test_a_thread_scoped_registry_removed_beside_a_request_scoped_one_is_not_told_to_offload(app, findings):
    # before, the advice for removing a request-scoped registry's Session (`await
    # run_in_threadpool(X.remove)`, same context, same key) was given for the thread-scoped one
    # too, whose `remove()` in a worker thread empties that worker's registry instead
    main = REQUEST_TEARDOWN.replace(
        "ScopedSession = scoped_session(", "ThreadSession = scoped_session(database_sessionmaker)\nScopedSession = scoped_session("
    ).replace("{removal}", "ThreadSession.remove()\n        ScopedSession.remove()")
    [finding] = findings(app(ROUTES, {"main.py": main}), "session_scope")
    message = finding["message"]
    assert finding["code"] == "AM308", finding
    assert "await run_in_threadpool(ThreadSession.remove)" not in message, message
    assert "`ThreadSession`, a `scoped_session` whose scope is the thread" in message, message
    assert "in a worker thread it reaches that thread's Session" in message, message
