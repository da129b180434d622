"""AM134 context-variable-set: a handler setting a ContextVar stays `async def`."""

from __future__ import annotations

import pytest
from sample import run_python

DEPENDENCY = """
from contextvars import ContextVar

from fastapi import Depends

request_session: ContextVar = ContextVar("request_session")


async def bind_session(session: session_dependency):
    {body}
    yield


@router.get("/items", dependencies=[Depends(bind_session)])
def list_items():
    return []
"""


def test_a_dependency_setting_a_context_variable_is_kept_with_am134(app, reported):
    root = app(DEPENDENCY.format(body="request_session.set(session)\n    session.execute('select 1')"))
    entry = reported(root, "bind_session", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM134", entry
    assert entry["reasons"][0].startswith("sets a context variable, request_session.set() at line")


def test_a_helper_setting_it_keeps_the_dependency_too(app, reported):
    source = DEPENDENCY.format(body="bind(session)\n    session.execute('select 1')") + (
        "\n\ndef bind(session):\n    request_session.set(session)\n"
    )
    entry = reported(app(source), "bind_session", "phase1")
    assert entry["action"] == "keep" and "request_session.set()" in entry["reasons"][0], entry


def test_near_miss_reading_a_context_variable_or_a_dict_set_converts(app, reported):
    root = app(DEPENDENCY.format(body="request_session.get(None)\n    {1}.union({2})\n    session.execute('select 1')"))
    entry = reported(root, "bind_session", "phase1")
    assert entry["action"] == "convert", entry


# A context variable storing the request's Session: storing it is no Session work; reading it
# back (`request_session.get().execute(...)`) is, where it is read.
STORED = """
from contextvars import ContextVar

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.orm import Session

request_session: ContextVar[Session] = ContextVar("request_session")


async def bind_session(session: session_dependency) -> Session:
    request_session.set(session)
    return session


def count() -> int:
    return request_session.get().execute(text("select 1")).scalar_one()


@router.get("/a")
async def a(session: session_dependency):
    request_session.set(session)
    return {{"n": count()}}


@router.get("/x")
def x(session: Session = Depends(bind_session)):
    return count()
{extra}
"""


def test_storing_the_session_in_a_context_variable_is_no_session_work(app, reported, findings):
    root = app(STORED.format(extra=""))
    assert findings(root, "bind_session") == []
    entry = reported(root, "bind_session", "phase1")
    assert entry["codes"] == ["AM105"], entry
    assert entry["reasons"][0].endswith("it only stores or returns the Session `session`")
    # the route's blocking call is the helper reading the context variable, not the `.set()`
    found = findings(root, "a")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "on the event loop at line 29 (api.items.count(...))" in found[0]["message"], found
    # the route sets it: still kept async (AM134), the helper call to offload named
    assert reported(root, "a", "phase1")["codes"][0] == "AM134"


def test_near_miss_a_context_variable_also_given_other_values_still_counts_as_use(app, findings):
    # its readers are not known to hold the Session: storing it there stays a use of the Session
    root = app(STORED.format(extra="\n\ndef reset_it():\n    request_session.set(None)\n"))
    found = findings(root, "bind_session")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "(uses the Session `session`)" in found[0]["message"]


# The Session a middleware opened for the request (`request.state.db`), stored in a context
# variable by an `async def` dependency for helpers far from the route.
STATE_STORED = """
from contextvars import ContextVar

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.orm import Session

db_ctx: ContextVar[Session] = ContextVar("db_ctx")


async def bind_db_ctx(request: Request):
    token = db_ctx.set(request.state.db)
    {extra}
    try:
        yield
    finally:
        db_ctx.reset(token)


def count() -> int:
    return db_ctx.get().execute(text("select 1")).scalar_one()


@router.get("/n", dependencies=[Depends(bind_db_ctx)])
async def n():
    return {{"n": count()}}
"""

STATE_MIDDLEWARE = """
from fastapi import FastAPI, Request

from api.items import router
from db.engine import database_sessionmaker

app = FastAPI()
app.include_router(router)


@app.middleware("http")
async def open_session(request: Request, call_next):
    request.state.db = database_sessionmaker()
    try:
        return await call_next(request)
    finally:
        request.state.db.close()
"""


def test_storing_the_request_state_session_in_a_context_variable_is_no_finding(app, reported, findings):
    root = app(STATE_STORED.format(extra=""), {"main.py": STATE_MIDDLEWARE})
    assert findings(root, "bind_db_ctx") == []
    entry = reported(root, "bind_db_ctx", "phase1")
    assert entry["action"] == "keep", entry
    # its readers do the I/O, and are converted for it
    assert reported(root, "n", "phase1")["action"] == "convert"


def test_near_miss_querying_the_request_state_session_beside_storing_it_is_am301(app, findings):
    root = app(STATE_STORED.format(extra="request.state.db.execute(text('select 1'))"), {"main.py": STATE_MIDDLEWARE})
    found = findings(root, "bind_db_ctx")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "request.state.db.execute()" in found[0]["message"], found
    assert "(db_ctx.set(request.state.db))" not in found[0]["message"], found


# A route that sets the variable for the helpers it calls and restores it itself.
PAIRED = """
from contextvars import ContextVar

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

db_ctx: ContextVar[Session] = ContextVar("db_ctx")


def count() -> int:
    return db_ctx.get().execute(text("select 41 + 1")).scalar_one()


@router.get("/n")
async def n(session: session_dependency):
    token = db_ctx.set(session)
    try:
        return {{"n": count()}}
    finally:
        {reset}


app = FastAPI()
app.include_router(router)
"""


def test_a_route_restoring_what_it_sets_converts_and_runs_in_the_threadpool(app, reported, cli):

    root = app(PAIRED.format(reset="db_ctx.reset(token)"))
    entry = reported(root, "n", "phase1")
    assert entry["action"] == "convert", entry
    assert "AM134" not in entry["codes"], entry
    assert cli("phase1", root, "--apply").exit_code == 0
    assert "\ndef n(" in (root / "api/items.py").read_text()
    script = (
        "from fastapi.testclient import TestClient\n"
        "from api.items import app, db_ctx\n"
        "with TestClient(app) as client:\n"
        "    r = client.get('/n')\n"
        "assert r.status_code == 200 and r.json() == {'n': 42}, r.text\n"
        "assert db_ctx.get(None) is None\n"
    )
    run = run_python(script, cwd=root)
    assert run.returncode == 0, run.stderr


def test_near_miss_a_route_leaving_it_set_or_resetting_another_token_keeps_am134(app, reported):
    for reset in ("pass", "db_ctx.reset(other)"):
        entry = reported(app(PAIRED.format(reset=reset).replace("    token =", "    other = None\n    token =")), "n",
                         "phase1")
        assert entry["action"] == "keep" and entry["codes"][0] == "AM134", (reset, entry)


# A hand-written `with db():`: `__enter__` sets the variable and `__exit__` resets it, so the
# `with` statement is balanced in whichever thread runs it.
SCOPE = """
from contextvars import ContextVar

from sqlalchemy import text

from db.engine import database_sessionmaker

_current: ContextVar = ContextVar("_current", default=None)


class Scope:
    def __enter__(self):
        self.token = _current.set(database_sessionmaker())
        return self

    def __exit__(self, *exc):
        _current.get().close()
        {leave}


@router.post("/audit")
async def audit():
    with Scope():
        _current.get().execute(text("select 1"))
    return {{}}
"""


def test_a_with_block_setting_and_resetting_the_variable_converts(app, reported):
    root = app(SCOPE.format(leave="_current.reset(self.token)"))
    entry = reported(root, "audit", "phase1")
    assert entry["action"] == "convert", entry


def test_near_miss_an_exit_that_leaves_the_variable_set_keeps_it(app, reported):
    root = app(SCOPE.format(leave="pass"))
    entry = reported(root, "audit", "phase1")
    assert entry["action"] == "keep" and "AM134" in entry["codes"], entry  # through __exit__


# The variable is a router factory's, set by a route it defines: phase one made the route def and
# the value went into a worker thread's copy of the context.
FACTORY = """
from contextvars import ContextVar


def make_routes(prefix: str) -> APIRouter:
    r = APIRouter(prefix=prefix)
    current = {built}

    @r.get("/items")
    async def list_items(session: session_dependency):
        current.set(session)
        return session.execute("select 1").all()

    return r
"""


def test_a_router_factorys_context_variable_set_by_its_route_keeps_it(app, reported):
    root = app(FACTORY.format(built='ContextVar("current")'))
    entry = reported(root, "make_routes.<locals>.list_items", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM134", entry
    assert entry["reasons"][0].startswith("sets a context variable, current.set() at line")


def test_near_miss_a_factorys_dict_set_converts(app, reported):
    root = app(FACTORY.format(built="{}").replace("current.set(session)", "current.setdefault('s', session)"))
    assert reported(root, "make_routes.<locals>.list_items", "phase1")["action"] == "convert"


HELPER_SETS = """
from contextvars import ContextVar

from sqlalchemy import text

tenant: ContextVar[str] = ContextVar("tenant", default="public")


def enter_tenant(name: str) -> None:
    tenant.set(name)


@router.get("/items")
async def list_items(name: str, session: session_dependency):
    enter_tenant(name)
    return session.execute(text("select 1")).all()
"""


def test_a_route_whose_helper_sets_a_context_variable_keeps_with_am134_not_as_an_event_loop_api(app, reported, cli):
    # `ContextVar.set` works in a worker thread; what goes wrong is where the value ends up, so
    # the reason is AM134's (never AM117's "would fail in the threadpool"), with the chain.
    root = app(HELPER_SETS)
    entry = reported(root, "list_items", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM134" and "AM117" not in entry["codes"], entry
    assert entry["reasons"][0].startswith("calls api.items.enter_tenant (line 21), which sets a context variable, "
                                          "tenant.set() at api/items.py:16: as `def`"), entry["reasons"][0]
    [finding] = [f for f in cli.json("check", root)["findings"] if f["function"] == "list_items"]
    assert "tenant.set() at api/items.py:16, reached through api.items.enter_tenant (line 21), keeps it async" in (
        finding["message"]
    ), finding["message"]


# A library's context variables: structlog's bound log context, asgi-correlation-id's request id.
# Set in a worker thread's copy of the context, the middleware and the log lines after the route
# never see them, as for a project `ContextVar`.
LIBRARY = """
import structlog
from asgi_correlation_id import correlation_id
from structlog.contextvars import bind_contextvars, bound_contextvars, clear_contextvars, unbind_contextvars

from sqlalchemy import text


@router.get("/items/{{item_id}}")
async def read_item(item_id: int, session: session_dependency):
    {body}
    return session.execute(text("select 1")).scalar_one()
"""


@pytest.mark.parametrize(("body", "written"), [
    ("bind_contextvars(item_id=item_id)", "bind_contextvars()"),
    ("structlog.contextvars.bind_contextvars(item_id=item_id)", "bind_contextvars()"),
    ("unbind_contextvars('item_id')", "unbind_contextvars()"),
    ("clear_contextvars()", "clear_contextvars()"),
    ("correlation_id.set(str(item_id))", "correlation_id.set()"),
])
def test_a_library_context_variable_setter_keeps_the_route_with_am134(app, reported, body, written):
    entry = reported(app(LIBRARY.format(body=body)), "read_item", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM134", entry
    assert entry["reasons"][0].startswith(f"sets a context variable, {written} at line"), entry


@pytest.mark.parametrize("body", [
    "structlog.contextvars.get_contextvars()",  # reading it back
    "correlation_id.get()",
    "structlog.get_logger().info('read', item_id=item_id)",
])
def test_near_miss_reading_a_library_context_variable_converts(app, reported, body):
    entry = reported(app(LIBRARY.format(body=body)), "read_item", "phase1")
    assert entry["action"] == "convert", entry


def test_a_dependency_binding_the_log_context_around_its_yield_keeps_with_am134(app, reported):
    # as `def`, FastAPI enters it in a worker thread's copy of the context: the route never sees it
    source = DEPENDENCY.replace("from contextvars import ContextVar\n", "from structlog.contextvars import bound_contextvars\n")
    source = source.replace("    {body}\n    yield\n", "    session.execute('select 1')\n    with bound_contextvars(user='u'):\n        yield\n")
    entry = reported(app(source), "bind_session", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM134", entry
    assert entry["reasons"][0].startswith("sets a context variable, bound_contextvars() at line"), entry
