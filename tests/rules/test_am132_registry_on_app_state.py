"""AM132 on a `scoped_session` registry the application keeps on its state
(`app.state.registry = scoped_session(maker)` in the lifespan): the Session it hands out is
Session work wherever it is called (in the route, in a helper, as a method on the registry), and
`check` reports the route; a sessionmaker kept there converts the route."""

from __future__ import annotations

import pytest

MAIN = """
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import scoped_session, sessionmaker

from api.items import router
from db.engine import database_sessionmaker, engine


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.registry = scoped_session(database_sessionmaker)
    app.state.maker = sessionmaker(engine)
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(router)
"""

HELPERS = """
from fastapi import Request
from sqlalchemy import text


def count_registry(request: Request):
    session = request.app.state.registry()
    return session.execute(text("select 1")).scalar()


def count_maker(request: Request):
    with request.app.state.maker() as s:
        return s.execute(text("select 1")).scalar()
"""

ROUTES = """
from fastapi import Request
from sqlalchemy import text

from services.counts import count_maker, count_registry


@router.get("/count")
async def read_count(request: Request):
    {body}
"""


def _root(app, body: str):  # type: ignore[no-untyped-def]
    return app(
        ROUTES.replace("{body}", body),
        {"main.py": MAIN, "services/__init__.py": "", "services/counts.py": HELPERS},
    )


@pytest.mark.parametrize(
    "body",
    [
        "s = request.app.state.registry()\n    return s.execute(text('select 1')).scalar()",
        "return count_registry(request)",
        "return request.app.state.registry.execute(text('select 1')).scalar()",
    ],
    ids=["in-the-route", "in-a-helper", "registry-method"],
)
def test_a_thread_local_registry_on_app_state_keeps_with_am132(app, reported, findings, body):
    # before, the route read as doing no Session work (or unverified by the local's name) and
    # check passed it
    root = _root(app, body)
    entry = reported(root, "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "`request.app.state.registry`, a `scoped_session` whose scope is the thread" in entry["reasons"][0]
    [finding] = findings(root, "read_count")
    assert finding["code"] == "AM301" and "scope it to the request" in finding["message"], finding


def test_near_miss_a_sessionmaker_on_app_state_converts(app, reported):
    entry = reported(_root(app, "return count_maker(request)"), "read_count", "phase1")
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


IMPORTED = """
from sqlalchemy import text


def count_imported():
    from main import app

    {body}
"""
WITH = """with app.state.{attribute}() as s:
        return s.execute(text("select 1")).scalar()"""
# the registry's Session entered by `with` is closed as the block is left: a worker thread keeps
# no transaction of it, and the route converts (tests/rules/test_am132_closed_by_with.py)
BARE = """return app.state.{attribute}.execute(text("select 1")).scalar()"""


@pytest.mark.parametrize(
    ("attribute", "form", "action", "code"),
    [("maker", WITH, "convert", "AM123"), ("registry", BARE, "keep", "AM132"), ("registry", WITH, "convert", "AM123")],
    ids=["maker", "registry", "registry-closed-by-with"],
)
def test_app_state_read_through_the_imported_application_is_session_work(
    app, reported, findings, attribute, form, action, code
):
    # `from main import app` in a helper: before, `app.state.maker()` read as no Session work
    root = app(
        """
        from services.imported import count_imported


        @router.get("/count")
        async def read_count():
            return count_imported()
        """,
        {"main.py": MAIN, "services/__init__.py": "", "services/imported.py": IMPORTED.replace("{body}", form).replace("{attribute}", attribute)},
    )
    entry = reported(root, "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == (action, code), entry["reasons"]
    [finding] = findings(root, "read_count")
    assert finding["code"] == "AM301", finding


def test_phase_two_blocks_a_route_on_a_registry_app_state_keeps(app, reported):
    # phase two moves only the Session a route receives: one from the application's state blocks
    # (before, the route read as doing no Session work, and phase two left it unchanged)
    body = "return request.app.state.registry.execute(text('select 1')).scalar()"
    entry = reported(_root(app, body), "read_count", "phase2", "-s", "api/items.py")
    assert (entry["action"], entry["codes"]) == ("blocked", ["AM241"]), entry
    assert "a Session it does not receive as a parameter" in entry["reasons"][0]


AT_IMPORT = """
from fastapi import FastAPI
from sqlalchemy.orm import scoped_session, sessionmaker

from api.items import router
from db.engine import database_sessionmaker, engine

app = FastAPI()
app.state.registry = scoped_session(database_sessionmaker)
app.state.maker = sessionmaker(engine)
app.include_router(router)
"""

AT_IMPORT_ROUTES = """
from fastapi import Depends, Request
from sqlalchemy import text


def get_registry(request: Request):
    return request.app.state.registry


@router.get("/count")
async def read_count(request: Request{params}):
    {body}
"""


@pytest.mark.parametrize(
    ("params", "body", "action", "code"),
    [
        ("", "return request.app.state.registry.execute(text('select 1')).scalar()", "keep", "AM132"),
        (", registry=Depends(get_registry)", "return registry().execute(text('select 1')).scalar()", "keep", "AM132"),
        ("", "with request.app.state.maker() as s:\n        return s.execute(text('select 1')).scalar()", "convert", "AM124"),
    ],
    ids=["registry", "registry-from-a-dependency", "sessionmaker"],
)
def test_a_session_source_kept_on_app_state_at_import_is_session_work(
    app, reported, findings, params, body, action, code
):
    # `app.state.registry = ...` beside `app = FastAPI()`: before, read as no Session work
    root = app(AT_IMPORT_ROUTES.replace("{params}", params).replace("{body}", body), {"main.py": AT_IMPORT})
    entry = reported(root, "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == (action, code), entry
    [finding] = findings(root, "read_count")
    assert finding["code"] == "AM301", finding


SCOPED_AT_IMPORT = """
import threading
import uuid
from contextvars import ContextVar

from fastapi import FastAPI, Request
from sqlalchemy.orm import scoped_session

from api.items import router
from db.engine import database_sessionmaker
from vendor import current_key

request_scope: ContextVar[str] = ContextVar("request_scope")

app = FastAPI()
app.state.registry = scoped_session(database_sessionmaker, scopefunc={scope})
app.include_router(router)


@app.middleware("http")
async def scoped(request: Request, call_next):
    token = request_scope.set(uuid.uuid4().hex)
    try:
        return await call_next(request)
    finally:
        request.app.state.registry.remove()
        request_scope.reset(token)
"""

REGISTRY_ROUTE = """
from fastapi import Request
from sqlalchemy import text


@router.get("/count")
async def read_count(request: Request):
    return request.app.state.registry.execute(text('select 1')).scalar()
"""


@pytest.mark.parametrize(
    ("scope", "action", "words"),
    [
        ("request_scope.get", "convert", None),
        ("threading.get_ident", "keep", "a `scoped_session` whose scope is the thread (main.py:15)"),
        ("current_key", "keep", "a `scoped_session` (main.py:15) whose scope the analysis cannot read"),
        ("lambda: current_key()[0]", "keep", "a `scoped_session` (main.py:15) whose scope the analysis cannot read"),
    ],
    ids=["request", "thread", "library-function", "unread-lambda"],
)
def test_the_scopefunc_of_a_registry_kept_on_app_state_at_import_is_read(app, reported, findings, scope, action, words):
    # before, the registry's `scopefunc=` was not read: a request-scoped one kept the route with
    # AM132 as if it were the thread's
    files = {
        "main.py": SCOPED_AT_IMPORT.replace("{scope}", scope),
        "vendor.py": "current_key = getattr(__import__('os'), 'key', None)\n",
    }
    root = app(REGISTRY_ROUTE, files)
    entry = reported(root, "read_count", "phase1")
    assert entry["action"] == action, entry
    if words is None:
        assert "AM132" not in entry["codes"], entry
    else:
        assert entry["codes"][0] == "AM132" and words in entry["reasons"][0], entry
    [finding] = findings(root, "read_count")
    assert finding["code"] == "AM301", finding
    assert ("`async-migrate phase1` converts it to def" in finding["message"]) == (words is None), finding


@pytest.mark.parametrize(
    ("scope", "action"),
    [("current_key", "keep"), ("threading.get_ident", "keep"), ("request_scope.get", "convert")],
    ids=["library-function", "thread", "request"],
)
def test_an_unread_scopefunc_of_a_registry_kept_in_the_lifespan_is_unverified(app, reported, scope, action):
    # before, a `scopefunc=` the analysis cannot read (a library's function) counted as the
    # request's: the route converted, and its Session might be one every request shares
    lifespan = (
        MAIN.replace("from db.engine", "from vendor import current_key\nfrom db.engine")
        .replace("scoped_session(database_sessionmaker)", f"scoped_session(database_sessionmaker, scopefunc={scope})")
        .replace("from contextlib", "import threading\nimport uuid\nfrom contextvars import ContextVar\nfrom contextlib")
        .replace("\n\n@asynccontextmanager", "\nrequest_scope: ContextVar[str] = ContextVar('request_scope')\n\n\n@asynccontextmanager")
        + SCOPED_AT_IMPORT[SCOPED_AT_IMPORT.index("@app.middleware"):]
    )
    files = {"main.py": lifespan, "vendor.py": "current_key = getattr(__import__('os'), 'key', None)\n"}
    entry = reported(app(REGISTRY_ROUTE, files), "read_count", "phase1")
    assert entry["action"] == action, entry
    if scope == "current_key":
        assert "whose scope the analysis cannot read" in entry["reasons"][0], entry
