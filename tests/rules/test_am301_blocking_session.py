"""AM301 blocking-session: `check` reports an `async def` handler doing synchronous Session work,
and a pragma names the rule by code or by its old kebab-case name."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS

BLOCKING = """
@router.get("")
async def read_items(session: session_dependency):{pragma}
    return session.execute("select 1").all()
"""


def test_a_blocking_async_route_is_an_am301_finding(app, findings):
    (finding,) = findings(app(BLOCKING.format(pragma="")), "read_items")
    assert (finding["code"], finding["name"]) == ("AM301", "blocking-session")


@pytest.mark.parametrize("named", ["AM301", "am301", "blocking-session"])
def test_a_pragma_silences_it_by_code_or_by_name(app, cli, named):
    root = app(BLOCKING.format(pragma=f"  # async-migrate: ignore[{named}] tiny table"))
    document = cli.json("check", root)
    assert document["findings"] == []
    assert [(s["code"], s["function"], s["reason"]) for s in document["silenced"]] == [
        ("AM301", "read_items", "tiny table")
    ]


def test_near_miss_a_pragma_naming_another_rule_silences_nothing(app, findings):
    root = app(BLOCKING.format(pragma="  # async-migrate: ignore[AM302] not this one"))
    # ... and, silencing nothing, is reported as unused
    assert [f["code"] for f in findings(root, "read_items")] == ["AM301", "AM305"]


def test_near_miss_a_phase_one_code_is_not_a_pragma_code(app, findings):
    root = app(BLOCKING.format(pragma="  # async-migrate: ignore[AM101] wrong family"))
    codes = [f["code"] for f in findings(root, "read_items")]
    assert codes == ["AM301", "AM303"]


COUNTS = """
from db.engine import database_sessionmaker


def article_count():
    with database_sessionmaker() as s:
        return s.execute("select 1").scalar()


COUNTERS = {"articles": article_count}
LABELS = {"articles": "Articles"}
"""


def test_a_helper_called_through_a_module_level_dict_is_an_am301_finding(app, findings):
    root = app(
        """
        from counts import COUNTERS


        @router.get("/counter/{kind}")
        async def counter(kind: str):
            return {"value": COUNTERS[kind]()}
        """,
        {"counts.py": COUNTS},
    )
    (finding,) = findings(root, "counter")
    assert finding["code"] == "AM301"
    assert "at line 13 (counts.article_count(...))" in finding["message"]


def test_near_miss_a_dict_of_plain_values_is_no_finding(app, findings):
    root = app(
        """
        from counts import LABELS


        @router.get("/label/{kind}")
        async def label(kind: str):
            return {"label": LABELS[kind]}
        """,
        {"counts.py": COUNTS},
    )
    assert findings(root, "label") == []


# A kept async route on a synchronous Session returning an ORM object whose response model nests a
# lazy relationship: FastAPI serialises it on the event loop, so the lazy load blocks there too.
SERIALISED = """
import asyncio

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import selectinload

from models import User


class PostOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    posts: list[PostOut]


@router.post("/users/{user_id}/touch", response_model=UserOut)
async def touch(user_id: int, session: session_dependency):
    user = session.get(User, user_id{options})
    await asyncio.sleep(0)
    session.commit()
    return user
"""


def test_a_kept_route_lists_its_response_lazy_load_among_the_blocking_lines(app, findings, reported):
    from rules.test_am129_lazy_load_on_loop import files

    root = app(SERIALISED.replace("{options}", ""), files())
    (finding,) = findings(root, "touch")
    assert finding["code"] == "AM301" and finding["phase1"] == "keep"
    calls = [b["call"] for b in finding["blocking"]]
    assert any(c.startswith("UserOut.posts (") and "serialised" in c for c in calls), calls
    assert "eager-load" in finding["message"]
    still = " ".join(reported(root, "touch", "phase1")["reasons"])
    assert "UserOut.posts" in still


def test_near_miss_the_route_eager_loads_what_the_response_reads(app, findings, reported):
    from rules.test_am129_lazy_load_on_loop import files

    root = app(SERIALISED.replace("{options}", ", options=[selectinload(User.posts)]"), files())
    (finding,) = findings(root, "touch")
    assert not any("UserOut.posts" in b["call"] for b in finding["blocking"])
    assert "UserOut.posts" not in " ".join(reported(root, "touch", "phase1")["reasons"])


@pytest.mark.parametrize("returned", [
    "return JSONResponse({'id': user.id})",
    "return StreamingResponse(iter([str(user.id)]))",
    "response = PlainTextResponse(str(user.id))\n    return response",
    "return Plain(str(user.id))",
])
def test_near_miss_the_route_returns_a_response_which_is_sent_as_it_is(app, findings, reported, returned):
    # aim's `get_active_runs_api` (`response_model=RunActiveOut`, `return StreamingResponse(streamer)`):
    # FastAPI serialises nothing into the model, which reads nothing on the objects
    from rules.test_am129_lazy_load_on_loop import files

    source = SERIALISED.replace("{options}", "").replace("    return user\n", f"    {returned}\n").replace(
        "from models import User\n",
        "from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse\n\nfrom models import User"
        "\n\n\nclass Plain(PlainTextResponse):\n    media_type = 'text/plain'\n",
    )
    root = app(source, files())
    (finding,) = findings(root, "touch")
    assert finding["code"] == "AM301"
    assert not any("UserOut.posts" in b["call"] for b in finding["blocking"]), finding["blocking"]
    assert "UserOut.posts" not in " ".join(reported(root, "touch", "phase1")["reasons"])


def test_the_held_session_bound_to_a_name_then_handed_on_is_found(app, findings, bound_held):
    found = findings(app(bound_held), "count")
    assert [(f["code"], [b["call"] for b in f["blocking"]]) for f in found] == [("AM301", ["count_books(db)"])], found


def test_near_miss_another_attribute_bound_to_a_name_is_no_finding(app, findings, bound_held):
    near = bound_held.replace("    db = shelf.db\n    return {\"n\": count_books(db)}",
                              "    db = shelf.label\n    return {\"n\": count_label(db)}")
    assert near != bound_held
    assert findings(app(near), "count") == []


LAZY_FROM_THREADPOOL = """
import asyncio

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from models import User


@router.get("/query")
async def query_built(session: session_dependency):
    q = await run_in_threadpool(lambda: session.query(User){query_end})
    return [u.id for u in {query_use}]


@router.get("/result")
async def result_read(session: session_dependency):
    result = await asyncio.to_thread(session.scalars{scalars_args})
    return [u.id for u in result]
"""


def test_a_query_or_result_the_threadpool_returned_consumed_on_the_loop_is_am301(app, findings):
    # The thread only built the Query (or ran the statement); running it (fetching the rows)
    # happens on the loop. It read "already runs in a worker thread: nothing blocks".
    from rules.test_am129_lazy_load_on_loop import files

    root = app(
        LAZY_FROM_THREADPOOL.replace("{query_end}", "").replace("{query_use}", "q.all()")
        .replace("{scalars_args}", ", select(User)"),
        files(),
    )
    for route, text in (("query_built", "q.all()"), ("result_read", "iterating result")):
        (finding,) = findings(root, route)
        assert finding["code"] == "AM301" and text in finding["message"], finding["message"]


def test_near_miss_the_threadpool_runs_the_query_to_a_list(app, findings):
    from rules.test_am129_lazy_load_on_loop import files

    root = app(
        LAZY_FROM_THREADPOOL.replace("{query_end}", ".all()").replace("{query_use}", "q")
        .replace("(session.scalars{scalars_args})", "(lambda: session.scalars(select(User)).all())"),
        files(),
    )
    assert findings(root, "query_built") == [] and findings(root, "result_read") == []


ITERATED = """
from fastapi.responses import StreamingResponse
from sqlalchemy import text
from starlette.concurrency import iterate_in_threadpool


def rows(session):
    for row in session.execute(text("select 1")):
        yield f"{row[0]}\\n"


@router.get("/threadpool")
async def in_threadpool(session: session_dependency):
    return StreamingResponse(iterate_in_threadpool(rows(session)))


@router.get("/loop")
async def on_loop(session: session_dependency):
    return {"rows": [r for r in rows(session)]}
"""


def test_a_generator_iterated_on_the_loop_blocks_and_one_iterated_in_the_threadpool_does_not(app, findings):
    # `iterate_in_threadpool(rows(session))` runs each step of the generator in a worker thread:
    # calling `rows` runs none of its body. Iterated in place, every step runs on the loop.
    root = app(ITERATED)
    assert findings(root, "in_threadpool") == []
    (finding,) = findings(root, "on_loop")
    assert finding["code"] == "AM301" and "rows(...)" in finding["message"], finding["message"]


OPENED_IN_STREAM = """
from contextlib import contextmanager

from fastapi.responses import StreamingResponse
from sqlalchemy import text

from db.engine import database_sessionmaker


@contextmanager
def session_scope():
    session = database_sessionmaker()
    try:
        yield session
        session.commit()
    finally:
        session.close()


@router.get("/scoped")
async def scoped():
    def rows():
        with session_scope() as s:
            for row in s.execute(text("select 1")):
                yield f"{row[0]}\\n"

    return StreamingResponse(rows())


@router.get("/opened")
async def opened():
    def rows():
        s = database_sessionmaker()
        yield str(s.execute(text("select 1")).scalar())
        s.close()

    return StreamingResponse(rows())


@router.get("/iterated")
async def iterated():
    def rows():
        with session_scope() as s:
            yield str(s.execute(text("select 1")).scalar())

    return {"rows": list(rows())}
"""


def test_a_session_a_streamed_nested_generator_opens_itself_is_no_finding(app, findings):
    # `StreamingResponse(rows())` with a nested plain generator opening its own Session
    # (`with session_scope() as s`, `s = SessionLocal()`): Starlette iterates it in the threadpool.
    # The opener's line was reported as blocking the loop, which the runtime guard never saw.
    root = app(OPENED_IN_STREAM)
    assert findings(root, "scoped") == [] and findings(root, "opened") == []
    # near miss: the route itself iterates the generator, on the loop
    (finding,) = findings(root, "iterated")
    assert finding["code"] == "AM301", finding["message"]


# An active-record helper taking an optional Session and falling back on a scoped_session global.
EITHER = """
from sqlalchemy.orm import Session, scoped_session

from db.engine import database_sessionmaker

SessionLocal = scoped_session(database_sessionmaker)


def log(message: str, db: Session | None = None) -> None:
    s = db if db is not None else SessionLocal
    s.execute("select 1")
    s.commit()
"""
LOGGED = """
from audit import log


@router.post("")
async def add_item():
    log("added")
"""


FALLBACK = """
from sqlalchemy.orm import Session, scoped_session

from db.engine import database_sessionmaker

SessionLocal = scoped_session(database_sessionmaker)


def log(message: str, {param}) -> None:
    {rebind}
    db.execute("select 1")
    db.commit()
"""
FALLBACKS = {
    "conditional": EITHER,
    "or-rebind": FALLBACK.format(param="db: Session | None = None", rebind="db = db or SessionLocal"),
    "default": FALLBACK.format(param="db: Session = SessionLocal", rebind="pass"),
}


@pytest.mark.parametrize("shape", sorted(FALLBACKS))
def test_work_on_a_session_a_helper_falls_back_on_is_an_am301_finding(app, findings, shape):
    # the helper's Session is the scoped_session global when no caller passes one: check said
    # no findings for the route, which passes none
    root = app(LOGGED, {"audit.py": FALLBACKS[shape]})
    assert [f["code"] for f in findings(root, "add_item")] == ["AM301"]


NO_SESSION = """
class Sink:
    def execute(self, statement: str) -> None:
        print(statement)

    def commit(self) -> None:
        print("done")


def log(message: str, sink: Sink | None = None) -> None:
    s = sink if sink is not None else Sink()
    s.execute("select 1")
    s.commit()
"""


def test_near_miss_a_conditional_expression_with_no_session_branch_is_no_finding(app, findings):
    root = app(LOGGED, {"audit.py": NO_SESSION})
    assert findings(root, "add_item") == []


# A class-based generic router (fastapi-crudrouter's shape): each method returns a route that
# calls back into the router through the method's `self`, which the route reads from the closure.
CLASS_ROUTER = """
from fastapi import APIRouter
from sqlalchemy import func, select

from db.engine import database_sessionmaker


class CountRouter(APIRouter):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.add_api_route("/count", self._route(), methods=["GET"])

    def _count(self):
        with database_sessionmaker() as s:
            return s.scalar(select(func.count()).select_from(self.model))

    def _label(self):
        return self.model.__name__

    def _route(self):
        async def route():
            return {{"n": self.{method}()}}

        return route
"""


def test_a_route_calling_its_router_through_the_closures_self_is_an_am301_finding(app, findings, reported):
    root = app("", {"api/generic.py": CLASS_ROUTER.format(method="_count")})
    function = "CountRouter._route.<locals>.route"
    assert [f["code"] for f in findings(root, function)] == ["AM301"]
    assert reported(root, function, "phase1")["action"] == "convert"


def test_a_factory_route_calling_a_method_of_the_factorys_local_is_an_am301_finding(app, findings):
    root = app(
        """
        from sqlalchemy import text

        from db.engine import database_sessionmaker


        class Counter:
            def count(self):
                with database_sessionmaker() as s:
                    return s.execute(text("select 1")).scalar()


        def make_route():
            counter = Counter()

            async def route():
                return {"n": counter.count()}

            return route


        router.add_api_route("/count", make_route(), methods=["GET"])
        """
    )
    assert [f["code"] for f in findings(root, "make_route.<locals>.route")] == ["AM301"]


def test_near_miss_a_route_calling_a_method_doing_no_session_work_is_no_finding(app, findings):
    root = app("", {"api/generic.py": CLASS_ROUTER.format(method="_label")})
    assert findings(root, "CountRouter._route.<locals>.route") == []


FACTORY_MODEL = """
from fastapi import APIRouter
from sqlalchemy import func, select

from db.engine import database_sessionmaker


class Note:
    @classmethod
    def count_rows(cls):
        with database_sessionmaker() as s:
            return s.scalar(select(func.count()).select_from(cls))


def counter_router(model):
    counter = APIRouter()

    @counter.get("/count")
    async def count():
        return {{"n": model.{method}()}}

    return counter


router.include_router(counter_router(Note))
"""


def test_a_factory_route_calling_a_method_on_the_factorys_parameter_is_an_am301_finding(app, findings):
    # The factory's callers are module-level statements, which hand `model` nothing the analysis
    # reads: any project class's method of that name may run.
    root = app(FACTORY_MODEL.format(method="count_rows"))
    assert [f["code"] for f in findings(root, "counter_router.<locals>.count")] == ["AM301"]


def test_near_miss_a_factory_route_calling_a_library_method_on_the_parameter_is_no_finding(app, findings):
    root = app(FACTORY_MODEL.format(method="model_json_schema"))
    assert findings(root, "counter_router.<locals>.count") == []


HELD_MODEL = """
from fastapi import APIRouter
from sqlalchemy import func, select

from db.engine import database_sessionmaker


class Note:
    @classmethod
    def count_rows(cls):
        with database_sessionmaker() as s:
            return s.scalar(select(func.count()).select_from(cls))


class CountRouter(APIRouter):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.add_api_route("/count", self._route(), methods=["GET"])
        self.add_api_route("/total", self.total, methods=["GET"])

    def _route(self):
        async def route():
            return {{"n": self.model.{method}()}}

        return route

    async def total(self):
        return {{"n": self.model.{method}()}}


router.include_router(CountRouter(Note))
"""


@pytest.mark.parametrize("function", ["CountRouter._route.<locals>.route", "CountRouter.total"])
def test_a_method_on_a_model_the_router_was_handed_is_an_am301_finding(app, findings, function):
    root = app(HELD_MODEL.format(method="count_rows"))
    assert [f["code"] for f in findings(root, function)] == ["AM301"]


@pytest.mark.parametrize("function", ["CountRouter._route.<locals>.route", "CountRouter.total"])
def test_near_miss_a_library_method_on_the_handed_model_is_no_finding(app, findings, function):
    root = app(HELD_MODEL.format(method="model_json_schema"))
    assert findings(root, function) == []


# Built with what the module-level code hands it through a lookup the analysis does not read.
HELD_UNREAD = HELD_MODEL.replace(
    "router.include_router(CountRouter(Note))",
    'MODELS = {{"note": Note}}\nrouter.include_router(CountRouter(MODELS[next(iter(MODELS))]))',
)


@pytest.mark.parametrize(
    ("source", "function", "why"),
    [
        (FACTORY_MODEL, "counter_router.<locals>.count", "the factory's argument is not read"),
        (HELD_UNREAD, "CountRouter.total", "the argument the object was built with is not read"),
    ],
)
def test_a_method_reached_only_by_its_name_is_one_the_route_may_call(app, reported, findings, source, function, why):
    # Which class the argument is, is not read: the reasons say the call may run the method, and why.
    root = app(source.format(method="count_rows"))
    guess = f"one of the project methods named count_rows; {why}"
    [reason] = reported(root, function, "phase1")["reasons"]
    assert reason.startswith("may call api.items.Note.count_rows (line ")
    assert f": {guess}), which does synchronous Session work: Note.count_rows -> " in reason
    [finding] = findings(root, function)
    assert f"(maybe api.items.Note.count_rows(...): {guess})" in finding["message"]


def test_a_sync_subclass_of_a_repository_generic_over_the_session_is_am301(generic_repositories, findings):
    found = findings(generic_repositories, "sync_count")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "SyncBooks.count" in found[0]["message"], found


def test_near_miss_its_async_subclass_holds_the_async_session_not_the_sync_one(generic_repositories, findings):
    # The shared `__init__` is handed a Session by `SyncBooks(db)`; `AsyncBooks(Repository[AsyncSession])`
    # still holds the AsyncSession its route builds it with, and awaits it.
    assert findings(generic_repositories, "async_count") == []


# A package re-exporting its helpers (`from .books import *`), one of which opens its own Session:
# a function looked up by name on it at run time may be that one.
BY_NAME_FILES = {
    "shop/__init__.py": "",
    "shop/crud/__init__.py": "from .labels import *  # noqa: F403\nfrom .stats import total\n",
    "shop/crud/labels.py": '__all__ = ["label"]\n\n\ndef label() -> str:\n    return "books"\n',
    "shop/crud/stats.py": COUNTS.replace("article_count", "total"),
    "shop/plain.py": 'def label() -> str:\n    return "books"\n',
}


@pytest.mark.parametrize("lookup", [
    "getattr(crud, name)()",
    "vars(crud)[name]()",
    "crud.__dict__.get(name)()",
    "run_it(name)",
    "(fn := getattr(crud, name))()",
    "(fn := vars(crud)[name])()",
    "(fn := crud.__dict__.get(name))()",
    "run_walrus(name)",
    "run_walrus_dict(name)",
])
def test_a_function_looked_up_by_name_on_a_project_package_is_an_am301_finding(app, findings, reported, lookup):
    root = app(
        f"""
        from shop import crud


        def run_it(name: str):
            fn = getattr(crud, name)
            return fn()


        def run_walrus(name: str):
            if (fn := getattr(crud, name, None)) is not None:
                return fn()
            return None


        def run_walrus_dict(name: str):
            if fn := crud.__dict__.get(name):
                return fn()
            return None


        @router.get("/run/{{name}}")
        async def run(name: str):
            return {{"value": {lookup}}}
        """,
        BY_NAME_FILES,
    )
    (finding,) = findings(root, "run")
    assert finding["code"] == "AM301"
    helper = lookup.partition("(")[0]
    shown = f"api.items.{helper}(...)" if helper.startswith("run_") else "maybe shop.crud.stats.total(...)"
    assert shown in finding["message"], finding["message"]
    assert reported(root, "run", "phase1")["action"] == "convert"


@pytest.mark.parametrize("lookup", ["getattr(plain, name)()", "(fn := getattr(plain, name))()", "(fn := plain.label)()"])
def test_near_miss_a_lookup_by_name_on_a_module_without_session_work_is_no_finding(app, findings, lookup):
    root = app(
        f"""
        from shop import plain


        @router.get("/run/{{name}}")
        async def run(name: str):
            return {{"value": {lookup}}}
        """,
        BY_NAME_FILES,
    )
    assert findings(root, "run") == []


@pytest.mark.parametrize("body", [
    "return {'value': (fn := total)()}",
    "if (fn := total) is not None:\n                return fn()\n            return None",
])
def test_a_function_bound_by_a_walrus_is_followed_as_an_assignment_is(app, findings, reported, body):
    root = app(
        f"""
        from shop.crud.stats import total


        @router.get("/run")
        async def run():
            {body}
        """,
        BY_NAME_FILES,
    )
    (finding,) = findings(root, "run")
    assert finding["code"] == "AM301"
    assert "shop.crud.stats.total(...)" in finding["message"], finding["message"]
    assert reported(root, "run", "phase1")["action"] == "convert"


# Names a router module takes from a star import (`from db.engine import *`, also through a
# package re-exporting it): the dependency, a helper opening its own Session, and the
# sessionmaker itself, here named `Session` as many code bases name it.
STAR_ENGINE = """
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite:///./app.db")
Session = sessionmaker(engine, expire_on_commit=False)


def get_db():
    db = Session()
    try:
        yield db
    finally:
        db.close()


def count_all():
    with Session() as s:
        return s.scalar(text("select 1"))


def label():
    return "books"
""".replace("from sqlalchemy import create_engine", "from sqlalchemy import create_engine, text")


@pytest.mark.parametrize("star", ["from db.engine import *  # noqa: F403", "from db import *  # noqa: F403"])
@pytest.mark.parametrize("route", [
    "async def read(db=Depends(get_db)):\n    return db.get(Book, 1)",
    "async def read(db: Session = Depends(get_db)):\n    return db.get(Book, 1)",
    "async def read():\n    return count_all()",
    "async def read():\n    with Session() as s:\n        return s.get(Book, 1)",
])
def test_names_a_star_import_brings_are_followed(project, app_files, findings, reported, star, route):
    root = project({
        **app_files,
        "db/__init__.py": "from db.engine import *  # noqa: F403\n",
        "db/engine.py": STAR_ENGINE,
        "models.py": MODELS,
        "api/__init__.py": "",
        "api/items.py": (
            f"from fastapi import APIRouter, Depends\n\n{star}\nfrom models import Book\n\n"
            f"router = APIRouter()\n\n\n@router.get('/x')\n{route}\n"
        ),
    })
    assert [f["code"] for f in findings(root, "read")] == ["AM301"]
    assert reported(root, "read", "phase1")["action"] == "convert"


def test_near_miss_a_star_imported_function_doing_no_session_work(project, app_files, findings, reported):
    root = project({
        **app_files,
        "db/engine.py": STAR_ENGINE,
        "models.py": MODELS,
        "api/__init__.py": "",
        "api/items.py": (
            "from fastapi import APIRouter\n\nfrom db.engine import *  # noqa: F403\n\n"
            "router = APIRouter()\n\n\n@router.get('/x')\nasync def read():\n    return {'label': label(), 'n': len('ab')}\n"
        ),
    })
    assert findings(root, "read") == []
    assert reported(root, "read", "phase1")["action"] == "keep"


# An ActiveRecord mixin reaching its Session through a class attribute the application sets at
# start-up (`ActiveRecord.session = db_session` at main.py's top): the registry is what
# `cls.session` holds, so `User.get(id)` is Session work, not a call the analysis cannot type.
ACTIVE_RECORD = """
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class ActiveRecord:
    session = None

    @classmethod
    def get(cls, ident):
        return cls.session.get(cls, ident)


class User(ActiveRecord, Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
"""
ACTIVE_RECORD_MAIN = """
from contextvars import ContextVar

from fastapi import FastAPI
from sqlalchemy.orm import scoped_session

from api.items import router
from armodels import ActiveRecord
from db.engine import database_sessionmaker

request_scope: ContextVar[str] = ContextVar("request_scope", default="-")
db_session = scoped_session(database_sessionmaker, scopefunc=request_scope.get)
{assignment}
app = FastAPI()
app.include_router(router)


@app.middleware("http")
async def scope(request, call_next):
    token = request_scope.set(str(id(request)))
    try:
        return await call_next(request)
    finally:
        request_scope.reset(token)
"""
ACTIVE_RECORD_ROUTE = """
from armodels import User


@router.get("/users/{user_id}")
async def get_user(user_id: int):
    return {"id": User.get(user_id).id}
"""


@pytest.mark.parametrize(
    ("assignment", "code", "action"),
    [
        ("ActiveRecord.session = db_session", "AM301", "convert"),
        # set by a start-up function: a store from outside the class, read as the module top's
        ("\n\ndef configure():\n    ActiveRecord.session = db_session\n", "AM301", "convert"),
    ],
    ids=["at-the-module-top", "in-a-function"],
)
def test_a_class_attribute_set_to_the_registry_at_start_up_is_session_work(
    app, findings, reported, assignment, code, action
):
    root = app(ACTIVE_RECORD_ROUTE, {
        "armodels.py": ACTIVE_RECORD, "main.py": ACTIVE_RECORD_MAIN.replace("{assignment}", assignment),
    })
    found = findings(root, "get_user")
    assert [f["code"] for f in found] == [code], found
    assert "ActiveRecord.get" in found[0]["message"], found
    entry = reported(root, "get_user", "phase1")
    assert entry["action"] == action and "cls.session.get()" in entry["reasons"][0], entry


NESTED_OFFLOAD = """
import asyncio

from starlette.concurrency import run_in_threadpool

from db.engine import database_sessionmaker


def query_doc(name):
    with database_sessionmaker() as s:
        return s.execute("select 1").scalar()


async def embed(q):
    return q


async def search(names, q):
    vector = await embed(q)

    def one(name):
        return query_doc(name)

    return {run}


@router.get("/search")
async def search_route(q: str):
    return await search(["a", "b"], q)
"""


@pytest.mark.parametrize(
    "run",
    [
        "[one(name) for name in names]",
        "[await asyncio.to_thread(one, name), one(vector)]",
        "await asyncio.gather(*[asyncio.to_thread(one, n) for n in names]), one",
    ],
)
def test_a_nested_function_the_coroutine_also_runs_itself_blocks_the_loop(app, findings, run):
    (finding,) = findings(app(NESTED_OFFLOAD.replace("{run}", run)), "search_route")
    assert finding["code"] == "AM301" and "query_doc" in finding["message"], finding["message"]


@pytest.mark.parametrize(
    "run",
    [
        "await asyncio.gather(*[asyncio.to_thread(one, n) for n in names])",
        "[await run_in_threadpool(one, name) for name in names]",
    ],
)
def test_near_miss_a_nested_function_only_an_offloading_call_runs_is_no_finding(app, findings, run):
    # `def one(name): return query_doc(name)` inside the coroutine, run only by
    # `asyncio.to_thread(one, name)`: its Session work is in a worker thread, as a lambda's body
    # handed there is, and was reported as blocking the loop
    assert findings(app(NESTED_OFFLOAD.replace("{run}", run)), "search_route") == []


# A kept async route on a synchronous Session handing what it loaded to a project method that reads
# a lazy relationship of it: the method runs on the loop, so its lazy load blocks there, at the
# route's call of it (a runtime guard shows it inside the method).
HELPER_LAZY = """
import asyncio

from fastapi import Depends
from sqlalchemy.orm import selectinload

from models import User


class UserService:
    def __init__(self, session: session_dependency) -> None:
        self.session = session

    def get(self, user_id: int) -> User:
        return self.session.get(User, user_id{options})

    def titles(self, user: User) -> list[str]:
        return [p.title for p in user.posts]


@router.get("/users/{user_id}/titles")
async def titles(user_id: int, svc: UserService = Depends()):
    user = svc.get(user_id)
    found = svc.titles(user)
    await asyncio.sleep(0)
    return {"titles": found}
"""


def test_a_lazy_load_in_a_method_the_kept_route_calls_on_the_loop_is_a_blocking_line(app, findings):
    from rules.test_am129_lazy_load_on_loop import files

    root = app(HELPER_LAZY.replace("{options}", ""), files())
    (finding,) = findings(root, "titles")
    assert finding["code"] == "AM301" and finding["phase1"] == "keep", finding
    lines = {b["line"]: b["call"] for b in finding["blocking"]}
    call = lines.get(30, "")
    assert call.startswith("user.posts in UserService.titles(...) at api/items.py:24"), finding["blocking"]


def test_near_miss_the_query_eager_loads_what_the_method_reads(app, findings):
    from rules.test_am129_lazy_load_on_loop import files

    root = app(HELPER_LAZY.replace("{options}", ", options=[selectinload(User.posts)]"), files())
    (finding,) = findings(root, "titles")
    assert [b["line"] for b in finding["blocking"]] == [29], finding["blocking"]


# The same model validated in the route's own return: the fields are read where the call runs,
# on the event loop, as the response model's are once the route returned.
VALIDATED = SERIALISED.replace(
    "from sqlalchemy.orm import selectinload\n",
    "from pydantic import TypeAdapter, parse_obj_as\nfrom sqlalchemy.orm import selectinload\n",
).replace('@router.post("/users/{user_id}/touch", response_model=UserOut)', '@router.post("/users/{user_id}/touch")')


@pytest.mark.parametrize(
    "returned",
    ["UserOut.model_validate(user)", "TypeAdapter(UserOut).validate_python(user)", "parse_obj_as(UserOut, user)"],
    ids=["model-validate", "type-adapter", "parse-obj-as"],
)
def test_a_lazy_load_in_a_validation_the_route_returns_is_among_the_blocking_lines(app, findings, reported, returned):
    # before, only a `response_model=` counted: `return UserOut.model_validate(user)` read
    # `user.posts` on the loop and AM301 did not list it
    from rules.test_am129_lazy_load_on_loop import files

    source = VALIDATED.replace("{options}", "").replace("    return user\n", f"    return {returned}\n")
    root = app(source, files())
    (finding,) = findings(root, "touch")
    assert finding["code"] == "AM301" and finding["phase1"] == "keep", finding
    calls = [b["call"] for b in finding["blocking"]]
    assert "UserOut.posts (lazy-loads when validated)" in calls, calls
    assert "UserOut.posts (lazy-loads when validated)" in " ".join(reported(root, "touch", "phase1")["reasons"])


def test_near_miss_the_route_eager_loads_what_the_validation_reads(app, findings):
    from rules.test_am129_lazy_load_on_loop import files

    source = VALIDATED.replace("{options}", ", options=[selectinload(User.posts)]").replace(
        "    return user\n", "    return UserOut.model_validate(user)\n"
    )
    (finding,) = findings(app(source, files()), "touch")
    assert finding["code"] == "AM301", finding
    assert not any("UserOut.posts" in b["call"] for b in finding["blocking"]), finding["blocking"]
