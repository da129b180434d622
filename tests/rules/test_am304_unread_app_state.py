"""AM304 unverified-session on what the application's state keeps from something the analysis
cannot read (`app.state.maker = build_maker()` on an unread function): a Session method called on
what calling it gives, in a helper or in a `@contextmanager` opener, is unverified, not "no
Session work"; a method on a kept client (`app.state.http.get(...)`) is no Session work."""

from __future__ import annotations

import pytest

MAIN = """
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.items import router
from vendor import build_maker, build_client


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.maker = build_maker()
    app.state.http = build_client()
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(router)
"""

HELPERS = """
from contextlib import contextmanager

from fastapi import Request
from sqlalchemy import text


def count(request: Request):
    with request.app.state.maker() as s:
        return s.execute(text("select 1")).scalar()


@contextmanager
def opened(request: Request):
    s = request.app.state.maker()
    try:
        yield s
    finally:
        s.close()


def fetch(request: Request):
    return request.app.state.http.get("/status")
"""

FILES = {
    "main.py": MAIN,
    "vendor.py": "build_maker = getattr(__import__('os'), 'maker', None)\nbuild_client = build_maker\n",
    "services/__init__.py": "",
    "services/counts.py": HELPERS,
}

ROUTE = """
from fastapi import Request
from sqlalchemy import text

from services.counts import count, opened


@router.get("/count")
async def read_count(request: Request):
    {body}
"""


@pytest.mark.parametrize(
    "body",
    [
        "return count(request)",
        "with opened(request) as s:\n        return s.execute(text('select 1')).scalar()",
    ],
    ids=["helper", "opener"],
)
def test_a_session_method_on_an_unread_app_state_maker_is_unverified(app, reported, findings, body):
    # before, the route read as doing no synchronous Session work and check passed it
    root = app(ROUTE.replace("{body}", body), FILES)
    entry = reported(root, "read_count", "phase1")
    assert entry["action"] == "keep" and "AM105" not in entry["codes"], entry
    assert "set at main.py:11 (`vendor.build_maker()`) from what the analysis cannot read" in entry["reasons"][0]
    [finding] = findings(root, "read_count")
    assert finding["code"] == "AM304", finding


def test_near_miss_a_method_on_an_unread_kept_client_is_no_session_work(app, reported, findings):
    root = app(
        """
        from fastapi import Request

        from services.counts import fetch


        @router.get("/status")
        async def read_count(request: Request):
            return fetch(request)
        """,
        FILES,
    )
    entry = reported(root, "read_count", "phase1")
    assert entry["codes"] == ["AM105"], entry
    assert findings(root, "read_count") == []


DIRECT = """
from fastapi import Request
from sqlalchemy import text

from main import app


@router.get("/count")
async def read_count(request: Request):
    {body}
"""


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        ("return request.app.state.maker.execute(text('select 1')).scalar()", "set at main.py:11"),
        ("request.app.state.maker.commit()", "set at main.py:11"),
        ("maker = request.app.state.maker\n    return maker.execute(text('select 1')).scalar()", "set at main.py:11"),
        ("return app.state.pool.execute(text('select 1')).scalar()", "`pool`, which the project sets nowhere"),
        ("return request.app.state.pool.execute(text('select 1')).scalar()", "`pool`, which the project sets nowhere"),
        (
            "with request.app.state.pool() as s:\n        return s.execute(text('select 1')).scalar()",
            "`pool`, which the project sets nowhere",
        ),
    ],
    ids=["unread-execute", "unread-commit", "unread-local", "unset-imported-app", "unset-execute", "unset-opener"],
)
def test_a_session_method_called_directly_on_unread_app_state_is_unverified(app, reported, findings, body, kept):
    # before, `execute`/`commit` on the kept object itself (not only `query`, `scalars`), and any
    # method on an attribute the project sets nowhere, read as no Session work and check passed it
    root = app(DIRECT.replace("{body}", body), FILES)
    entry = reported(root, "read_count", "phase1")
    assert entry["action"] == "keep" and entry["codes"] == ["AM125"], entry
    assert f"is called on what the application's state keeps, {kept}" in entry["reasons"][0], entry["reasons"]
    [finding] = findings(root, "read_count")
    assert finding["code"] == "AM304", finding


@pytest.mark.parametrize(
    "body",
    [
        "return request.app.state.pool.get('/status')",
        "return await request.app.state.maker.execute('select 1')",
        "return request.app.state.http.get('/status')",
        "with request.app.state.web() as client:\n        return client.get('/status')",
    ],
    ids=["unset-get", "awaited-execute", "unread-client-get", "unset-opener-client-get"],
)
def test_near_miss_a_client_method_or_an_awaited_one_is_no_session_work(app, reported, findings, body):
    root = app(DIRECT.replace("{body}", body), FILES)
    assert reported(root, "read_count", "phase1")["codes"] == ["AM105"]
    assert findings(root, "read_count") == []
