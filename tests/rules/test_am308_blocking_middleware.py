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


@pytest.mark.parametrize(
    ("main", "function"),
    [
        (DECORATED, "api_key"),
        (DISPATCH, "KeyMiddleware.dispatch"),
        (ASGI, "KeyMiddleware.__call__"),
        (FACTORY, "KeyMiddleware.dispatch"),
        (NESTED, "audit"),
        (NESTED, "create_app.<locals>.api_key"),
    ],
    ids=["decorator", "base-http-dispatch", "pure-asgi", "app-factory", "decorator-by-hand", "nested-in-factory"],
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
