"""AM132 thread-scoped-session: a route on a thread-local `scoped_session` stays async with AM132
(and `check`'s fix does not offer offloading); a request-scoped registry, or a route that
removes its own Session, converts."""

from __future__ import annotations

import textwrap

import pytest

REGISTRY = """
from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

ScopedSession = scoped_session(database_sessionmaker{scope})
"""

ROUTES = """
from sqlalchemy import text

from db.scoped import ScopedSession


def count():
    return ScopedSession.execute(text("select 1")).scalar()


@router.get("/count")
async def read_count():
    {body}
"""


def _root(app, scope: str = "", body: str = "return count()"):  # type: ignore[no-untyped-def]
    return app(ROUTES.replace("{body}", body), {"db/scoped.py": REGISTRY.replace("{scope}", scope)})


def test_a_route_on_a_thread_local_scoped_session_keeps_with_am132(app, reported, cli):
    root = _root(app)
    entry = reported(root, "read_count", "phase1", "--offload-mixed")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "api/items.py:14 (`ScopedSession.execute()`)" in entry["reasons"][0]
    assert not any(b["offloaded"] for b in entry["blocking"]), entry
    result = cli.json("check", root)
    [finding] = [f for f in result["findings"] if f["function"] == "read_count"]
    assert "scope it to the request" in finding["message"] and "run_in_threadpool" not in finding["message"]


def test_near_miss_a_route_removing_its_own_session_converts(app, reported):
    # a request-scoped registry converts too: `test_near_miss_a_scopefunc_function_on_a_variable_set_per_request_converts`
    body = "try:\n        return count()\n    finally:\n        ScopedSession.remove()"
    entry = reported(_root(app, "", body), "read_count", "phase1")
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


@pytest.mark.parametrize("scope", [", scopefunc=lambda: None", ", scopefunc=vendor.current_key"])
def test_a_scopefunc_the_analysis_cannot_read_keeps_with_am132_unverified(app, reported, scope):
    # before, any `scopefunc=` the analysis could not read counted as the request's and the route
    # converted: `lambda: None` keys every request on one Session, which `def` routes would share
    files = {
        "db/scoped.py": REGISTRY.replace("{scope}", scope).replace("from db.engine", "import vendor\nfrom db.engine"),
        "vendor.py": "current_key = getattr(__import__('os'), 'key', None)\n",
    }
    entry = reported(app(ROUTES.replace("{body}", "return count()"), files), "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "a `scoped_session` (db/scoped.py:6) whose scope the analysis cannot read" in entry["reasons"][0], entry


# The registry as an attribute of a module-level object: set in `__init__`, handed out by a
# property, or assigned in the class body. Each is the same thread-local registry.
HOLDER = """
from contextvars import ContextVar

from sqlalchemy import text
from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

request_scope: ContextVar[object] = ContextVar("request_scope")


def enter_request() -> None:  # what a middleware runs per request
    request_scope.set(object())


class Database:
    def __init__(self):
        self.session = scoped_session(database_sessionmaker{scope})
        self._hidden = self.session

    @property
    def current(self):
        return self._hidden

    def count(self):
        return self.session.execute(text("select 1")).scalar()


class Shared:
    session = scoped_session(database_sessionmaker)


db = Database()
shared = Shared()
"""

HELD_ROUTE = """
from sqlalchemy import text

from db.holder import db, shared


@router.get("/count")
async def read_count():
    {body}
"""


def _held(app, body: str, scope: str = ""):  # type: ignore[no-untyped-def]
    files = {"db/holder.py": HOLDER.replace("{scope}", scope)}
    return app(HELD_ROUTE.replace("{body}", body), files)


@pytest.mark.parametrize(
    ("body", "written"),
    [
        ('return db.session.execute(text("select 1")).scalar()', "`db.session.execute()`"),
        ('return db.current.execute(text("select 1")).scalar()', "`db.current.execute()`"),
        ("return db.count()", "`self.session.execute()`"),
        ("s = db.session()\n    return s.bind", "`db.session()`"),
    ],
    ids=["init-attribute", "property", "method", "called"],
)
def test_a_thread_local_registry_held_by_a_module_level_instance_keeps_with_am132(app, reported, cli, body, written):
    root = _held(app, body)
    entry = reported(root, "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert written in entry["reasons"][0] and "whose scope is the thread (db/holder.py:" in entry["reasons"][0]
    [finding] = [f for f in cli.json("check", root)["findings"] if f["function"] == "read_count"]
    assert "scope it to the request" in finding["message"] and "run_in_threadpool" not in finding["message"]


def test_a_registry_in_the_class_body_keeps_unverified_scope(app, reported):
    # The class body's call arguments are not read: the scope is said to be unknown, never assumed.
    entry = reported(_held(app, 'return shared.session.execute(text("select 1")).scalar()'), "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "whose scope the analysis cannot read" in entry["reasons"][0]


def test_near_miss_a_request_scoped_registry_on_an_instance_converts(app, reported):
    root = _held(app, 'return db.session.execute(text("select 1")).scalar()', ", scopefunc=request_scope.get")
    entry = reported(root, "read_count", "phase1")
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


# `Model.query` through a `query_property()` of a thread-local registry is Session work on that
# registry (AM301 in `check`), on the class that declares it, its subclasses, and a base made by
# `declarative_base()` it is set on; a request-scoped registry's converts.
MODEL_QUERY = """
from contextvars import ContextVar

from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import DeclarativeBase, declarative_base, scoped_session

from db.engine import database_sessionmaker

request_scope: ContextVar[object] = ContextVar("request_scope")


def enter_request() -> None:  # what a middleware runs per request
    request_scope.set(object())
Session = scoped_session(database_sessionmaker{scope})


class Base(DeclarativeBase):
    query = Session.query_property()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    email = Column(String)


Classic = declarative_base()
Classic.query = Session.query_property()


class Named(Classic):
    __abstract__ = True
    name = Column(String)


class CRUDMixin:
    @classmethod
    def get_by_id(cls, id):
        return cls.query.get(id)

    def reloaded(self):
        return self.query.get(self.id)

    def siblings(self):
        return type(self).query.count()

    def others(self):
        return self.__class__.query.count()


class Pet(CRUDMixin, Named):
    __tablename__ = "pets"
    id = Column(Integer, primary_key=True)
"""

MODEL_QUERY_ROUTE = """
from db.models import Pet, User


def find(email):
    return User.query.filter_by(email=email).first()


@router.get("/users/{email}")
async def read_user(email: str):
    {body}
"""


def _model_query(app, body: str, scope: str = ""):  # type: ignore[no-untyped-def]
    return app(MODEL_QUERY_ROUTE.replace("{body}", body), {"db/models.py": MODEL_QUERY.replace("{scope}", scope)})


@pytest.mark.parametrize(
    ("body", "line", "written"),
    [
        ("return User.query.filter_by(email=email).first().id", 17, "User.query.filter_by().first()"),
        ("return Pet.query.get(1).name", 17, "Pet.query.get()"),
        ("q = User.query\n    return q.count()", 18, "q.count()"),
        ("return find(email).id", 12, "User.query.filter_by().first()"),
    ],
    ids=["declared-on-the-base", "set-on-declarative-base-subclass", "bound-to-a-local", "in-a-helper"],
)
def test_model_query_on_a_thread_local_registry_keeps_with_am132(app, reported, findings, body, line, written):
    root = _model_query(app, body)
    scan = reported(root, "read_user")
    assert "does no synchronous Session work" not in " ".join(scan["reasons"]), scan
    entry = reported(root, "read_user", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert f"api/items.py:{line} (`{written}`)" in entry["reasons"][0], entry
    assert "`query_property()` of a `scoped_session` whose scope is the thread" in entry["reasons"][0]
    [finding] = findings(root, "read_user")
    assert finding["code"] == "AM301" and "scope it to the request" in finding["message"], finding


# `User.query` handed to a helper that runs it (a Flask-era `paginate(query, page)`): the helper's
# unannotated parameter holds the Query, so its `.count()` is Session work on the registry.
@pytest.mark.parametrize("passed", ["User.query", "query=User.query", "q"])
def test_model_query_handed_to_a_helper_is_run_there(app, reported, findings, passed):
    route = MODEL_QUERY_ROUTE.replace("{body}", f"q = User.query\n    return paginate({passed})").replace(
        "def find(email):", "def paginate(query, page=1):\n    return query.limit(10).offset(page).count()\n\n\ndef find(email):"
    )
    root = app(route, {"db/models.py": MODEL_QUERY.replace("{scope}", "")})
    entry = reported(root, "read_user", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "(`query.limit().offset().count()`) on `query`, a `query_property()`" in entry["reasons"][0], entry
    assert [f["code"] for f in findings(root, "read_user")] == ["AM301"]


def test_near_miss_a_helper_given_no_query_does_no_session_work(app, reported):
    route = MODEL_QUERY_ROUTE.replace("{body}", "return paginate([1, 2])").replace(
        "def find(email):", "def paginate(query, page=1):\n    return query.count(page)\n\n\ndef find(email):"
    )
    entry = reported(app(route, {"db/models.py": MODEL_QUERY.replace("{scope}", "")}), "read_user", "phase1")
    assert "does no synchronous Session work" in entry["reasons"][0], entry


# A mapped class handed to a Flask-era helper (`get_or_404(User, id)` reading `model.query`): the
# helper's unannotated parameter holds the class, imported or bound to a local.
@pytest.mark.parametrize("passed", ["User, 1", "model=Pet, ident=1", "kind, 1"])
def test_a_mapped_class_handed_to_a_helper_reads_its_query_property(app, reported, findings, passed):
    route = MODEL_QUERY_ROUTE.replace("{body}", f"kind = User\n    return get_or_404({passed}).id").replace(
        "def find(email):", "def get_or_404(model, ident):\n    return model.query.get(ident)\n\n\ndef find(email):"
    )
    root = app(route, {"db/models.py": MODEL_QUERY.replace("{scope}", "")})
    entry = reported(root, "read_user", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "(`model.query.get()`) on `model.query`, a `query_property()`" in entry["reasons"][0], entry
    assert [f["code"] for f in findings(root, "read_user")] == ["AM301"]


def test_near_miss_a_class_with_no_query_handed_to_a_helper_is_no_session_work(app, reported):
    route = MODEL_QUERY_ROUTE.replace("{body}", "return get_or_404(dict, 1)").replace(
        "def find(email):", "def get_or_404(model, ident):\n    return model.query.get(ident)\n\n\ndef find(email):"
    )
    entry = reported(app(route, {"db/models.py": MODEL_QUERY.replace("{scope}", "")}), "read_user", "phase1")
    assert "does no synchronous Session work" in entry["reasons"][0], entry


# A mixin declares no `query` itself: `cls.query` in its classmethod, `self.query` in its method,
# read the `query_property()` of the mapped classes mixing it in.
@pytest.mark.parametrize(
    ("body", "written"),
    [
        ("return Pet.get_by_id(1).name", "cls.query.get()"),
        ("return Pet().reloaded().name", "self.query.get()"),
        ("return Pet().siblings()", "type().query.count()"),
        ("return Pet().others()", "self.__class__.query.count()"),
    ],
    ids=["classmethod", "method", "type-of-self", "dunder-class"],
)
def test_model_query_in_a_mixin_is_the_mapped_classes_query(app, reported, body, written):
    root = _model_query(app, body)
    entry = reported(root, "read_user", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    read = written[: written.index(".query") + len(".query")]
    assert f"(`{written}`) on `{read}`, a `query_property()`" in entry["reasons"][0], entry
    converted = reported(_model_query(app, body, ", scopefunc=request_scope.get"), "read_user", "phase1")
    assert converted["action"] == "convert" and f"-> {written}" in converted["reasons"][0], converted


def test_near_miss_model_query_on_a_request_scoped_registry_converts(app, reported):
    entry = reported(
        _model_query(app, "return User.query.filter_by(email=email).first().id", ", scopefunc=request_scope.get"),
        "read_user", "phase1",
    )
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry
    assert "Session work at line 17 (`User.query.filter_by().first()`)" in entry["reasons"][0], entry


# The registry handed to the wrapper's constructor at module level (`db = Database(Registry)`,
# `Database(scoped_session(...))`), kept as `self.session = session` in `__init__`.
GIVEN = """
from contextvars import ContextVar

from sqlalchemy import text
from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

request_scope: ContextVar[object] = ContextVar("request_scope")


def enter_request() -> None:  # what a middleware runs per request
    request_scope.set(object())
Registry = scoped_session(database_sessionmaker{scope})


class Database:
    def __init__(self, session):
        self.session = session


db = Database(Registry)
inline = Database(session=scoped_session(database_sessionmaker{scope}))
"""


@pytest.mark.parametrize("holder", ["db", "inline"])
def test_a_registry_given_to_a_module_level_instance_keeps_with_am132(app, reported, holder):
    route = HELD_ROUTE.replace("from db.holder import db, shared", f"from db.given import {holder}")
    body = f'return {holder}.session.execute(text("select 1")).scalar()'
    root = app(route.replace("{body}", body), {"db/given.py": GIVEN.replace("{scope}", "")})
    entry = reported(root, "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert f"`{holder}.session`" in entry["reasons"][0], entry


def test_near_miss_a_request_scoped_registry_given_to_an_instance_converts(app, reported):
    route = HELD_ROUTE.replace("from db.holder import db, shared", "from db.given import db")
    body = 'return db.session.execute(text("select 1")).scalar()'
    root = app(route.replace("{body}", body), {"db/given.py": GIVEN.replace("{scope}", ", scopefunc=request_scope.get")})
    entry = reported(root, "read_count", "phase1")
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


IDENT_REGISTRY = """
import asyncio
import threading

from greenlet import getcurrent as ident_func
from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

ScopedSession = scoped_session(database_sessionmaker, {scope})
"""


@pytest.mark.parametrize(
    ("scope", "words"),
    [
        ("scopefunc=threading.get_ident", "whose scope is the thread"),
        ("ident_func", "whose scope is the thread"),
        ("scopefunc=asyncio.current_task", "`asyncio.current_task()` raises RuntimeError"),
        ("scopefunc=lambda: id(asyncio.current_task())", "`asyncio.current_task()` raises RuntimeError"),
    ],
    ids=["thread-ident", "greenlet-positional", "task", "task-lambda"],
)
def test_a_scopefunc_keyed_on_the_thread_or_the_task_keeps_with_am132(app, reported, scope, words):
    # A `scopefunc=` is no request scope when it names the thread's identity (what Flask-SQLAlchemy
    # used) or the asyncio task's: in a worker thread the first keeps a Session per worker, the
    # second raises, since no task runs there.
    files = {"db/scoped.py": IDENT_REGISTRY.replace("{scope}", scope)}
    entry = reported(app(ROUTES.replace("{body}", "return count()"), files), "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert words in entry["reasons"][0], entry["reasons"][0]


def test_an_instance_registry_keyed_on_the_thread_keeps_with_am132(app, reported):
    root = _held(app, 'return db.session.execute(text("select 1")).scalar()', ", scopefunc=threading.get_ident")
    (root / "db/holder.py").write_text("import threading\n" + (root / "db/holder.py").read_text())
    entry = reported(root, "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry


def test_near_miss_a_scopefunc_on_a_context_variable_converts(app, reported):
    scope = "scopefunc=request_scope.get"
    text = "from contextvars import ContextVar\n" + IDENT_REGISTRY.replace("{scope}", scope)
    text = text.replace(
        "ScopedSession =",
        'request_scope: ContextVar[object] = ContextVar("request_scope")\n'
        "def enter_request():\n    request_scope.set(object())\nScopedSession =",
    )
    entry = reported(app(ROUTES.replace("{body}", "return count()"), {"db/scoped.py": text}), "read_count", "phase1")
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


SCOPED_DEPENDENCY = """
from contextvars import ContextVar

from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

request_scope: ContextVar[object] = ContextVar("request_scope")


def enter_request() -> None:  # what a middleware runs per request
    request_scope.set(object())
db_session = scoped_session(database_sessionmaker{scope})


{asynchronous}def get_db():
    db = db_session()
    try:
        yield db
    finally:
        db_session.remove()
"""

DEPENDENT_ROUTE = """
from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.scoped import get_db


@router.get("/count")
async def read_count(db: Session = Depends(get_db)):
    return db.execute(text("select 1")).scalar()
"""


def _dependent(app, scope: str = "", asynchronous: str = "async "):  # type: ignore[no-untyped-def]
    registry = SCOPED_DEPENDENCY.replace("{scope}", scope).replace("{asynchronous}", asynchronous)
    return app(DEPENDENT_ROUTE, {"db/scoped.py": registry})


def test_a_generator_dependency_removing_a_thread_local_session_after_its_yield_keeps_with_am132(app, reported):
    # FastAPI runs a plain generator dependency's two halves in two threadpool calls: the
    # `remove()` after the yield may run on another worker than `db_session()` did.
    entry = reported(_dependent(app), "get_db", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry


@pytest.mark.parametrize("asynchronous", ["async ", ""], ids=["async-dependency", "def-dependency"])
def test_a_route_handed_a_thread_local_session_by_its_dependency_keeps_with_am132(app, reported, cli, asynchronous):
    # Every request the dependency serves on one thread is handed that thread's one Session: as
    # `def` the routes would use it from several workers at once.
    root = _dependent(app, asynchronous=asynchronous)
    entry = reported(root, "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "the Session `get_db()` hands out from a `scoped_session` whose scope is the thread" in entry["reasons"][0]
    assert "have `get_db()` open a Session of its own" in entry["reasons"][0]
    [finding] = [f for f in cli.json("check", root)["findings"] if f["function"] == "read_count"]
    assert "have `get_db()` open a Session of its own" in finding["message"]


def test_near_miss_a_dependency_on_a_request_scoped_registry_converts(app, reported):
    root = _dependent(app, ", scopefunc=request_scope.get")
    for function in ("read_count", "get_db"):
        entry = reported(root, function, "phase1")
        assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


def test_a_scopefunc_on_a_context_variable_nothing_sets_keeps_with_am132(app, reported):
    # Every request reads the variable's default: the registry hands all of them one Session,
    # which `def` routes would use from several threadpool workers at once.
    text = "from contextvars import ContextVar\n" + IDENT_REGISTRY.replace("{scope}", "scopefunc=request_scope.get")
    text = text.replace("ScopedSession =", 'request_scope: ContextVar[object] = ContextVar("request_scope", default=None)\nScopedSession =')
    entry = reported(app(ROUTES.replace("{body}", "return count()"), {"db/scoped.py": text}), "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "keyed on a context variable nothing in the project sets" in entry["reasons"][0], entry["reasons"][0]
    assert "a Session is not thread-safe" in entry["reasons"][0]


# A middleware keeping the registry's Session on the request's state: on the event loop thread
# every request gets the loop thread's one Session, so a route reading `request.state.db` as
# `def` would use it from several threadpool workers at once.
STATE_MIDDLEWARE = """
from contextvars import ContextVar

from fastapi import FastAPI, Request
from starlette.middleware.base import BaseHTTPMiddleware
from sqlalchemy.orm import scoped_session

from api.items import router
from db.engine import database_sessionmaker

request_scope: ContextVar[object] = ContextVar("request_scope")
RequestSession = scoped_session(database_sessionmaker{scope})
app = FastAPI()
app.include_router(router)


{middleware}
"""

# What the middleware does around `call_next`, under either form.
MIDDLEWARE_BODY = """
request_scope.set(object())
{keep}
try:
    return await call_next(request)
finally:
    RequestSession.remove()
"""
FUNCTION_MIDDLEWARE = (
    '@app.middleware("http")\nasync def open_session(request: Request, call_next):\n'
    + textwrap.indent(MIDDLEWARE_BODY.strip("\n"), "    ")
)
CLASS_MIDDLEWARE = (
    "class SessionMiddleware(BaseHTTPMiddleware):\n    async def dispatch(self, request: Request, call_next):\n"
    + textwrap.indent(MIDDLEWARE_BODY.strip("\n"), "        ")
    + "\n\n\napp.add_middleware(SessionMiddleware)\n"
)

STATE_ROUTE = """
from fastapi import Request
from sqlalchemy import text


@router.post("/count")
async def bump(request: Request):
    db = request.state.db
    db.execute(text("select 1"))
    db.commit()
"""


def _state(app, middleware: str, keep: str, scope: str = ""):  # type: ignore[no-untyped-def]
    main = STATE_MIDDLEWARE.replace("{scope}", scope).replace("{middleware}", middleware.replace("{keep}", keep))
    return app(STATE_ROUTE, {"main.py": main})


@pytest.mark.parametrize("middleware", [FUNCTION_MIDDLEWARE, CLASS_MIDDLEWARE], ids=["http-middleware", "class"])
@pytest.mark.parametrize(
    "keep",
    ["request.state.db = RequestSession()", "db = RequestSession()\n    request.state.db = db"],
    ids=["called", "bound"],
)
def test_a_route_reading_a_thread_local_session_a_middleware_keeps_on_the_request_keeps_with_am132(
    app, reported, cli, middleware, keep
):
    if middleware is CLASS_MIDDLEWARE:
        keep = keep.replace("\n    ", "\n        ")
    root = _state(app, middleware, keep)
    entry = reported(root, "bump", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "keeps on `request.state.db` from a `scoped_session` whose scope is the thread" in entry["reasons"][0]
    assert "a Session is not thread-safe" in entry["reasons"][0]
    [finding] = [f for f in cli.json("check", root)["findings"] if f["function"] == "bump"]
    assert "keep a Session of its own there (`request.state.db = SessionLocal()`" in finding["message"]


@pytest.mark.parametrize(
    ("keep", "scope"),
    [("request.state.db = database_sessionmaker()", ""), ("request.state.db = RequestSession()", ", scopefunc=request_scope.get")],
    ids=["sessionmaker", "request-scoped"],
)
def test_near_miss_a_middleware_keeping_a_session_per_request_converts(app, reported, keep, scope):
    entry = reported(_state(app, FUNCTION_MIDDLEWARE, keep, scope), "bump", "phase1")
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


# An active-record model: a property and a mixin method working on the scoped_session global.
AR_MODELS = """
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.scoped import ScopedSession


class Base(DeclarativeBase):
    pass


class Saving:
    def save(self):
        ScopedSession.add(self)
        ScopedSession.commit()
        return self


class Author(Saving, Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))

    @property
    def book_count(self) -> int:
        return ScopedSession.scalar(select(func.count(Book.id)).where(Book.author_id == self.id))

    @property
    def shout(self) -> str:
        return self.name.upper()


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))


class AuthorStats(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    {field}: {annotation}
"""
AR_ROUTES = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from ar_models import Author, AuthorStats


@router.get("/authors/{{author_id}}"{response})
async def read_author(author_id: int, db: Session = Depends(get_db_session)):
    author = db.get(Author, author_id)
    {body}
"""
MEMBER_SHAPES = {
    "property-read": ("", "return {'books': author.book_count}", "book_count", "int", "`author.book_count`"),
    "mixin-method": ("", "author.name = 'x'\n    author.save()", "book_count", "int", "`author.save`"),
    "response-field": (", response_model=AuthorStats", "return author", "book_count", "int",
                       "response model field `AuthorStats.book_count`"),
}


def _ar_root(app, response: str, body: str, field: str, annotation: str):  # type: ignore[no-untyped-def]
    return app(
        AR_ROUTES.format(response=response, body=body),
        {
            "db/scoped.py": REGISTRY.replace("{scope}", ""),
            "ar_models.py": AR_MODELS.replace("{field}", field).replace("{annotation}", annotation),
        },
    )


@pytest.mark.parametrize("shape", sorted(MEMBER_SHAPES))
def test_model_code_a_route_runs_on_the_thread_local_registry_keeps_with_am132(app, reported, shape):
    # converted, the property or mixin ran on a threadpool worker's Session no remove() reaches
    response, body, field, annotation, shown = MEMBER_SHAPES[shape]
    entry = reported(_ar_root(app, response, body, field, annotation), "read_author", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert f"through {shown}" in entry["reasons"][0], entry["reasons"]


@pytest.mark.parametrize(
    ("response", "body"),
    [("", "return {'shout': author.shout}"), (", response_model=AuthorStats", "return author")],
    ids=["property-read", "response-field"],
)
def test_near_miss_model_code_without_session_work_converts(app, reported, response, body):
    entry = reported(_ar_root(app, response, body, "shout", "str"), "read_author", "phase1")
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


# An active-record base keeping the module-level registry as a class attribute.
CLASS_HELD = """
from db.scoped import ScopedSession


class Active:
    session = {held}

    @classmethod
    def create(cls, **values):
        cls.session.execute("select 1")
        cls.session.commit()
"""
CLASS_ROUTES = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from active import Active


@router.post("/things")
async def add_thing(db: Session = Depends(get_db_session)):
    db.execute("select 1")
    Active.create(name="x")
"""


def test_a_class_attribute_naming_the_thread_local_registry_keeps_with_am132(app, reported):
    # `session = ScopedSession` was untyped: the route was converted, its commit on a worker's Session
    root = app(CLASS_ROUTES, {"db/scoped.py": REGISTRY.replace("{scope}", ""), "active.py": CLASS_HELD.format(held="ScopedSession")})
    entry = reported(root, "add_thing", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "on `cls.session`, a `scoped_session` whose scope is the thread" in entry["reasons"][0], entry["reasons"]


def test_near_miss_a_class_attribute_naming_no_session_converts(app, reported):
    held = CLASS_HELD.format(held="None").replace("cls.session.execute", "print").replace("        cls.session.commit()\n", "")
    root = app(CLASS_ROUTES, {"db/scoped.py": REGISTRY.replace("{scope}", ""), "active.py": held})
    entry = reported(root, "add_thing", "phase1")
    assert entry["action"] == "convert", entry


# A `scopefunc=` naming a project function, or a lambda calling one or a context variable's
# `get`, keys the registry on what that body reads.
FUNCTION_REGISTRY = """
import asyncio
from contextvars import ContextVar

from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

unset: ContextVar[object] = ContextVar("unset", default=None)
request_scope: ContextVar[object] = ContextVar("request_scope")


def enter_request():
    request_scope.set(object())


def _task_scope():
    return id(asyncio.current_task())


def _unset_scope():
    return unset.get()


def _request_scope():
    return request_scope.get()


ScopedSession = scoped_session(database_sessionmaker, scopefunc={scope})
"""

REMOVES_ITS_OWN = "try:\n        return count()\n    finally:\n        ScopedSession.remove()"


@pytest.mark.parametrize(
    ("scope", "body", "words"),
    [
        ("_task_scope", "return count()", "`asyncio.current_task()` raises RuntimeError"),
        ("lambda: _task_scope()", "return count()", "`asyncio.current_task()` raises RuntimeError"),
        ("asyncio.current_task", REMOVES_ITS_OWN, "`asyncio.current_task()` raises RuntimeError"),
        ("_unset_scope", "return count()", "keyed on a context variable nothing in the project sets"),
        ("lambda: unset.get()", "return count()", "keyed on a context variable nothing in the project sets"),
        ("lambda: unset.get()", REMOVES_ITS_OWN, "keyed on a context variable nothing in the project sets"),
    ],
    ids=["task-function", "task-function-lambda", "task-removes-its-own", "unset-function", "unset-lambda",
         "unset-removes-its-own"],
)
def test_a_scopefunc_reading_the_task_or_an_unset_variable_through_a_function_keeps_with_am132(
    app, reported, scope, body, words
):
    # As `def` the route runs in a worker thread: `asyncio.current_task()` raises there before
    # anything the route removes, and every request reading the variable's default shares one
    # Session across the workers, removed or not.
    files = {"db/scoped.py": FUNCTION_REGISTRY.replace("{scope}", scope)}
    entry = reported(app(ROUTES.replace("{body}", body), files), "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert words in entry["reasons"][0], entry["reasons"][0]


@pytest.mark.parametrize("scope", ["_request_scope", "lambda: request_scope.get()"])
def test_near_miss_a_scopefunc_function_on_a_variable_set_per_request_converts(app, reported, scope):
    files = {"db/scoped.py": FUNCTION_REGISTRY.replace("{scope}", scope)}
    entry = reported(app(ROUTES.replace("{body}", "return count()"), files), "read_count", "phase1")
    assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


@pytest.mark.parametrize(("marker", "kept"), [("def", True), ("async def", False)])
def test_a_scopefunc_on_a_variable_only_a_plain_dependency_sets_keeps_with_am132(app, reported, marker, kept):
    # FastAPI runs a plain `def` dependency in a worker thread: the value it sets stays in that
    # thread's copy of the context, the route reads the default, and every request shares one
    # Session, which `def` routes would use from several workers at once. An `async def`
    # dependency sets it in the request's own context.
    text = "from contextvars import ContextVar\n" + IDENT_REGISTRY.replace("{scope}", "scopefunc=request_scope.get")
    text = text.replace(
        "ScopedSession =",
        'request_scope: ContextVar[object] = ContextVar("request_scope", default=None)\n'
        f"{marker} enter_request():\n    request_scope.set(object())\nScopedSession =",
    )
    routes = ROUTES.replace("{body}", "return count()").replace(
        "from db.scoped import ScopedSession", "from fastapi import Depends\n\nfrom db.scoped import ScopedSession, enter_request"
    ).replace('@router.get("/count")', '@router.get("/count", dependencies=[Depends(enter_request)])')
    entry = reported(app(routes, {"db/scoped.py": text}), "read_count", "phase1")
    if kept:
        assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
        assert "nothing in the project sets in the request's own context" in entry["reasons"][0], entry["reasons"][0]
    else:
        assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


SET_PER_REQUEST = """
import itertools
import uuid
from contextvars import ContextVar
from uuid import uuid4

from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

request_scope: ContextVar[object] = ContextVar("request_scope", default=None)
_ids = itertools.count(1)
_slots = itertools.cycle([1, 2])


async def enter_request(request, call_next):  # an HTTP middleware
    {set}
    return await call_next(request)


async def startup():
    request_scope.set(uuid4().hex)


ScopedSession = scoped_session(database_sessionmaker, scopefunc=request_scope.get)
"""


@pytest.mark.parametrize(
    ("stored", "kept"),
    [
        ('request_scope.set("request")', True),
        ('request_scope.set(request.headers.get("x-request-id", "-"))', True),
        ("rid = request.headers.get('x-request-id')\n    request_scope.set(rid)", True),
        ("request_scope.set(uuid.uuid4().hex)", False),
        ("request_scope.set(str(uuid4()))", False),
        ("rid = uuid4().hex\n    request_scope.set(rid)", False),
        ("request_scope.set(id(request))", False),
        ("request_scope.set(next(_ids))", False),
        ("request_scope.set(next(_slots))", True),
    ],
    ids=["constant", "header", "header-local", "uuid4-hex", "str-uuid4", "uuid4-local", "id-request", "counter",
         "cycle"],
)
def test_a_scopefunc_on_a_variable_set_to_a_value_that_may_repeat_keeps_with_am132(app, reported, stored, kept):
    # Two requests setting the same value (a constant, a header the client sends or leaves out)
    # get the registry's one Session for it: as `def` they would use it from two workers at once,
    # which a Session does not allow. A value made for each request (`uuid4()`, `id(request)`)
    # keys the request alone. The startup handler's set is the one value of no request.
    registry = SET_PER_REQUEST.replace("{set}", stored)
    entry = reported(app(ROUTES.replace("{body}", "return count()"), {"db/scoped.py": registry}), "read_count", "phase1")
    if kept:
        assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
        assert "may set to the same value for several requests" in entry["reasons"][0], entry["reasons"][0]
        assert "a Session is not thread-safe" in entry["reasons"][0]
    else:
        assert entry["action"] == "convert" and "AM132" not in entry["codes"], entry


def test_a_scopefunc_on_a_variable_only_a_startup_handler_sets_keeps_with_am132(app, reported):
    registry = SET_PER_REQUEST.replace("{set}", "pass")
    main = "from db.scoped import startup\n"
    root = app(ROUTES.replace("{body}", "return count()"), {"db/scoped.py": registry})
    (root / "app_hooks.py").write_text(main + "from fastapi import FastAPI\napp = FastAPI(on_startup=[startup])\n")
    entry = reported(root, "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "nothing in the project sets in the request's own context" in entry["reasons"][0], entry["reasons"][0]


RETURNS_REGISTRY = """
from sqlalchemy.orm import scoped_session

from db.engine import database_sessionmaker

db_session = scoped_session(database_sessionmaker)


def get_db():
    return db_session
"""


def test_a_dependency_returning_the_registry_itself_keeps_with_am132_on_the_routes_thread(app, reported, findings):
    # `return db_session` hands out the registry, not a Session: its calls reach the Session of
    # the thread the route runs on, so as `def` each worker keeps its own, never removed. It is
    # no Session the whole process shares (AM126), nor one a worker handed on.
    route = DEPENDENT_ROUTE
    root = app(route, {"db/scoped.py": RETURNS_REGISTRY})
    entry = reported(root, "read_count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM132"), entry
    assert "AM126" not in entry["codes"], entry
    assert "the `scoped_session` `get_db()` hands out itself, whose scope is the thread" in entry["reasons"][0]
    assert "each keeping its own Session" in entry["reasons"][0], entry["reasons"][0]
    def_root = app(route.replace("async def read_count", "def read_count"), {"db/scoped.py": RETURNS_REGISTRY})
    assert [f["code"] for f in findings(def_root, "read_count")] == ["AM332"]
