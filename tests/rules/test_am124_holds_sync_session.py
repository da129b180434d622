"""AM124 holds-sync-session: Session work on a Session the handler holds converts it."""

from __future__ import annotations

# Scoped to the request: a thread-local one is AM132.
SCOPED = """
from contextvars import ContextVar

from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

request_scope: ContextVar[object] = ContextVar("request_scope")


def enter_request() -> None:  # what a middleware runs per request
    request_scope.set(object())


ScopedSession = scoped_session(sessionmaker(bind=create_engine("sqlite://")), scopefunc=request_scope.get)
"""


def test_a_scoped_session_global_used_directly_converts_with_am124(app, reported):
    root = app(
        """
        from db.scoped import ScopedSession


        @router.get("/items")
        async def list_items():
            return ScopedSession.query(dict).all()
        """,
        {"db/scoped.py": SCOPED},
    )
    entry = reported(root, "list_items", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM124"])
    assert entry["reasons"] == [
        "does synchronous Session work at line 13 (`ScopedSession.query()`) and never awaits"
    ]


def test_near_miss_a_method_that_does_no_io_keeps_with_am105(app, reported):
    root = app(
        """
        from db.scoped import ScopedSession


        @router.get("/items")
        async def list_items():
            return ScopedSession.is_active_flag
        """,
        {"db/scoped.py": SCOPED},
    )
    assert reported(root, "list_items", "phase1")["codes"] == ["AM105"]


# `request.state.db`: read as the Session the project's middleware (or a dependency) puts there.
STATE_ROUTES = """
from fastapi import Request
from sqlalchemy.orm import Session


class Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def list(self):
        return self.session.execute("select 1").all()


@router.get("/items")
async def list_items(request: Request):
    return Repo(request.state.db).list()


@router.get("/items/{item_id}")
async def get_item(item_id: int, request: Request):
    return request.state.db.get(dict, item_id)


@router.get("/alias/{item_id}")
async def get_alias(item_id: int, request: Request):
    session = request.state.db
    return session.get(dict, item_id)
"""

STATE_MAIN = """
from fastapi import FastAPI, Request
from starlette.middleware.base import BaseHTTPMiddleware

from api.items import router
from db.engine import database_sessionmaker
{extra}

class DBMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        request.state.db = {value}
        try:
            return await call_next(request)
        finally:
            request.state.db.close()


app = FastAPI()
app.include_router(router)
app.add_middleware(DBMiddleware)
"""


def _state_app(app, value: str = "database_sessionmaker()", extra: str = ""):  # type: ignore[no-untyped-def]
    return app(STATE_ROUTES, {"main.py": STATE_MAIN.format(value=value, extra=extra)})


def test_request_state_assigned_a_session_by_middleware_is_that_session_in_every_shape(app, reported, findings):
    root = _state_app(app)
    for function in ("list_items", "get_item", "get_alias"):
        assert reported(root, function, "phase1")["action"] == "convert", function
        assert [f["code"] for f in findings(root, function)] == ["AM301"], function
    assert reported(root, "get_item", "phase1")["codes"] == ["AM124"]
    assert [f["code"] for f in findings(root, "DBMiddleware.dispatch")] == ["AM308"]
    blocking = [b["line"] for b in findings(root, "DBMiddleware.dispatch")[0]["blocking"]]
    # the Session closed; building it into the state does no I/O (the routes' statements do)
    assert blocking == [14]


def test_request_state_under_a_local_name_handed_to_a_helper_is_that_session(app, reported, findings):
    # `db = request.state.db` then `count(db)`: the middleware's Session handed on under a local
    # name is as much Session work as `count(request.state.db)`, never "does no Session work".
    root = app(
        """
        from fastapi import Request
        from sqlalchemy.orm import Session


        def count(session: Session):
            return session.execute("select 1").all()


        @router.get("/handed")
        async def get_handed(request: Request):
            db = request.state.db
            return count(db)
        """,
        {"main.py": STATE_MAIN.format(value="database_sessionmaker()", extra="")},
    )
    entry = reported(root, "get_handed", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM124"]), entry
    assert [f["code"] for f in findings(root, "get_handed")] == ["AM301"]


def test_request_state_assigned_by_a_dependency_counts_too(app, reported):
    root = app(
        STATE_ROUTES,
        {"main.py": """
from fastapi import Depends, FastAPI, Request

from api.items import router
from db.engine import database_sessionmaker


def open_session(request: Request):
    request.state.db = database_sessionmaker()


app = FastAPI(dependencies=[Depends(open_session)])
app.include_router(router)
"""},
    )
    assert reported(root, "get_item", "phase1")["codes"] == ["AM124"]


def test_near_miss_request_state_assigned_something_unknown_stays_unverified(app, reported, findings):
    root = _state_app(app, value="make_session()", extra="from vendor_sdk import make_session\n")
    assert reported(root, "get_item", "phase1")["codes"] == ["AM125"]
    assert [f["code"] for f in findings(root, "get_item")] == ["AM304"]
    assert reported(root, "get_alias", "phase1")["codes"] == ["AM125"]


def test_near_miss_an_assignment_through_an_untyped_head_leaves_the_state_unknown(app, reported):
    root = _state_app(app, extra="""

def stash(holder, value):
    holder.state.db = value
""")
    assert reported(root, "get_item", "phase1")["codes"] == ["AM125"]


def test_near_miss_application_state_is_another_object(app, reported):
    root = app(STATE_ROUTES, {"main.py": """
from fastapi import FastAPI

from api.items import router
from db.engine import database_sessionmaker

app = FastAPI()
app.include_router(router)


@app.on_event("startup")
async def open_shared(app: FastAPI = app):
    app.state.db = database_sessionmaker()
"""})
    assert reported(root, "get_item", "phase1")["codes"] == ["AM125"]


TENANT_MAKERS = """
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite://")
SessionLocals = {
    t: sessionmaker(bind=engine.execution_options(schema_translate_map={"tenant": t})) for t in ("a", "b")
}
"""


def test_a_sessionmaker_looked_up_in_a_dict_of_them_opens_a_session_and_converts(app, reported, findings):
    root = app(
        """
        from fastapi import Header

        from db.tenants import SessionLocals


        @router.get("/items")
        async def list_items(x_tenant: str = Header()):
            maker = SessionLocals.get(x_tenant)
            with maker() as db:
                return db.execute("select 1").scalar()
        """,
        {"db/tenants.py": TENANT_MAKERS},
    )
    entry = reported(root, "list_items", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM124"]), entry
    assert [f["code"] for f in findings(root, "list_items")] == ["AM301"]


def test_near_miss_a_dict_of_sessionmakers_changed_elsewhere_stays_unverified(app, reported):
    root = app(
        """
        from fastapi import Header

        from db.tenants import SessionLocals


        def register(name, maker):
            SessionLocals[name] = maker


        @router.get("/items")
        async def list_items(x_tenant: str = Header()):
            maker = SessionLocals.get(x_tenant)
            with maker() as db:
                return db.execute("select 1").scalar()
        """,
        {"db/tenants.py": TENANT_MAKERS},
    )
    entry = reported(root, "list_items", "phase1")
    assert entry["action"] == "keep" and entry["codes"] == ["AM125"], entry


GETATTR_ROUTES = """
from fastapi import Request


@router.get("/items/{item_id}")
async def get_item(item_id: int, request: Request):
    session = getattr(request.state, "db")
    return session.get(dict, item_id)


@router.get("/maybe/{item_id}")
async def get_maybe(item_id: int, request: Request):
    return getattr(request.state, "db", None).get(dict, item_id)


@router.get("/named/{item_id}")
async def get_named(item_id: int, request: Request, name: str = "db"):
    return getattr(request.state, name).get(dict, item_id)
"""


def test_getattr_of_the_request_state_is_the_session_it_names(app, reported, findings):
    root = app(GETATTR_ROUTES, {"main.py": STATE_MAIN.format(value="database_sessionmaker()", extra="")})
    for function in ("get_item", "get_maybe"):
        entry = reported(root, function, "phase1")
        assert (entry["action"], entry["codes"]) == ("convert", ["AM124"]), entry
        assert [f["code"] for f in findings(root, function)] == ["AM301"], function


def test_near_miss_getattr_of_a_name_the_analysis_cannot_read_is_no_all_clear(app, reported):
    root = app(GETATTR_ROUTES, {"main.py": STATE_MAIN.format(value="database_sessionmaker()", extra="")})
    entry = reported(root, "get_named", "phase1")
    assert entry["codes"] != ["AM124"], entry


def test_the_held_session_bound_to_a_name_then_handed_on_converts_with_am124(app, reported, bound_held):
    entry = reported(app(bound_held), "count", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM124"]), entry
    assert "(`count_books(db)`)" in entry["reasons"][0], entry


def test_near_miss_another_attribute_of_the_class_bound_to_a_name_keeps_with_am105(app, reported, bound_held):
    near = bound_held.replace("    db = shelf.db\n    return {\"n\": count_books(db)}",
                              "    db = shelf.label\n    return {\"n\": count_label(db)}")
    assert near != bound_held
    entry = reported(app(near), "count", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM105"]), entry
