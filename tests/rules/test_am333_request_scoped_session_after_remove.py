"""AM333: a background task uses a `scoped_session` keyed on the request after a
`BaseHTTPMiddleware` removed it: the Session the task makes under the request's key stays in the
registry for good. A pure ASGI middleware removes it after the task; a task removing it is fine."""

from __future__ import annotations

import pytest

REGISTRY = """
from contextvars import ContextVar
from uuid import uuid4

from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

request_scope: ContextVar[object] = ContextVar("request_scope", default=None)
ScopedSession = scoped_session(database_sessionmaker, scopefunc=request_scope.get)
"""

MIDDLEWARES = {
    "decorated": """
@app.middleware("http")
async def session_scope(request, call_next):
    token = request_scope.set(uuid4().hex)
    try:
        return await call_next(request)
    finally:
        ScopedSession.remove()
        request_scope.reset(token)
""",
    "dispatch": """
class SessionScope(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        token = request_scope.set(uuid4().hex)
        try:
            return await call_next(request)
        finally:
            ScopedSession.remove()
            request_scope.reset(token)


app.add_middleware(SessionScope)
""",
    "pure-asgi": """
class SessionScope:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        token = request_scope.set(uuid4().hex)
        try:
            await self.app(scope, receive, send)
        finally:
            ScopedSession.remove()
            request_scope.reset(token)


app.add_middleware(SessionScope)
""",
}

MAIN = """
from uuid import uuid4

from fastapi import FastAPI
from starlette.middleware.base import BaseHTTPMiddleware

from api.items import router
from db.scoped import ScopedSession, request_scope

app = FastAPI()
app.include_router(router)
"""

ROUTES = """
from fastapi import BackgroundTasks
from sqlalchemy import text

from db.scoped import ScopedSession


def record(kind: str):
    ScopedSession.execute(text("select 1"))
    ScopedSession.commit()


def record_and_remove(kind: str):
    try:
        record(kind)
    finally:
        ScopedSession.remove()


@router.post("/later")
async def later(kind: str, tasks: BackgroundTasks):
    tasks.add_task({task}, kind)
    return {}
"""


def _root(app, middleware: str, task: str = "record"):  # type: ignore[no-untyped-def]
    files = {"db/scoped.py": REGISTRY, "main.py": MAIN + MIDDLEWARES[middleware]}
    return app(ROUTES.replace("{task}", task), files)


@pytest.mark.parametrize("middleware", ["decorated", "dispatch"])
def test_a_background_task_on_a_registry_a_base_http_middleware_removed_is_reported(app, findings, middleware):
    found = findings(_root(app, middleware), "later")
    assert [f["code"] for f in found] == ["AM333"], found
    message = found[0]["message"]
    assert "adds the background task `record` at line" in message, message
    assert "`ScopedSession`, a `scoped_session` keyed on the request (db/scoped.py:" in message, message
    assert "the middleware's `remove()` (main.py:" in message, message


@pytest.mark.parametrize(
    ("middleware", "task"),
    [("pure-asgi", "record"), ("decorated", "record_and_remove"), ("dispatch", "record_and_remove")],
    ids=["pure-asgi-removes-after-the-task", "task-removes-decorated", "task-removes-dispatch"],
)
def test_near_miss_a_task_removing_it_or_a_pure_asgi_middleware_is_not_am333(app, findings, middleware, task):
    found = findings(_root(app, middleware, task), "later")
    assert "AM333" not in [f["code"] for f in found], found
