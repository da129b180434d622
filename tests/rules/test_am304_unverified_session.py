"""AM304 unverified-session: `check` reports a handler whose Session work it cannot see, never all-clear."""

from __future__ import annotations

import textwrap

import pytest
from test_phase2_rules import MODELS

DEPS = """
from fastapi import Depends
from sqlalchemy.orm import Session
from vendor_sdk import make_repository

from db.engine import get_db_session


def get_repo(db: Session = Depends(get_db_session)):
    return make_repository(db)
"""


def test_check_reports_an_unverified_handler_with_am304(app, findings, cli):
    root = app(
        """
        from fastapi import Depends

        from deps import get_repo


        @router.get("/items")
        async def list_items(repo=Depends(get_repo)):
            return repo.list()
        """,
        {"deps.py": DEPS},
    )
    found = findings(root, "list_items")
    assert [f["code"] for f in found] == ["AM304"]
    assert "may do synchronous Session work the analysis cannot see" in found[0]["message"]
    assert cli("check", root).exit_code == 1


def test_near_miss_an_acknowledged_handler_is_silenced(app, findings, cli):
    root = app(
        """
        from fastapi import Depends

        from deps import get_repo


        # async-migrate: ignore[unverified-session] the vendor repository is offloaded by its own client
        @router.get("/items")
        async def list_items(repo=Depends(get_repo)):
            return repo.list()
        """,
        {"deps.py": DEPS},
    )
    assert findings(root, "list_items") == []
    assert cli("check", root).exit_code == 0


def test_a_depends_built_by_unseen_code_is_unverified_not_clean(app, findings, reported):
    root = app(
        """
        from fastapi import Depends

        from deps import make_dependency


        @router.get("/items")
        async def list_items(db=Depends(make_dependency())):
            return db.execute("select 1").all()
        """,
        {"deps.py": "def make_dependency():\n    return vendor.session_dependency\n"},
    )
    found = findings(root, "list_items")
    assert [f["code"] for f in found] == ["AM304"]
    assert "comes from `Depends(make_dependency())`, which the analysis cannot follow" in found[0]["message"]
    assert reported(root, "list_items", "phase1")["codes"] == ["AM125"]


def test_near_miss_a_lambda_dependency_giving_settings_is_no_finding(app, findings, cli):
    root = app(
        """
        from fastapi import Depends


        @router.get("/items")
        async def list_items(settings=Depends(lambda: {"page": 10})):
            return {"page": settings.get("page")}
        """
    )
    assert findings(root, "list_items") == []
    assert cli("check", root).exit_code == 0


def test_a_depends_built_by_unseen_code_handed_to_a_helper_is_unverified(app, findings):
    root = app(
        """
        from fastapi import Depends

        from deps import make_dependency


        def titles(db):
            return db.execute("select title from book").all()


        @router.get("/items")
        async def list_items(db=Depends(make_dependency())):
            return titles(db)
        """,
        {"deps.py": "def make_dependency():\n    return vendor.session_dependency\n"},
    )
    found = findings(root, "list_items")
    assert [f["code"] for f in found] == ["AM304"]
    assert "it is handed to `titles`" in found[0]["message"]


def test_a_depends_built_by_unseen_code_handed_to_a_local_objects_method_names_it(app, findings):
    # `tasks.add_task(save, db)`: the call is named as written, not "a call"
    root = app(
        """
        from fastapi import BackgroundTasks, Depends

        from deps import make_dependency


        def save(db):
            db.commit()


        @router.post("/items")
        async def add_item(tasks: BackgroundTasks, db=Depends(make_dependency())):
            tasks.add_task(save, db)
        """,
        {"deps.py": "def make_dependency():\n    return vendor.session_dependency\n"},
    )
    found = findings(root, "add_item")
    assert [f["code"] for f in found] == ["AM304"]
    assert "it is handed to `tasks.add_task`" in found[0]["message"], found[0]["message"]


HOOKS = """
from vendor_sdk import make_hooks

from db.engine import database_sessionmaker


def article_count():
    with database_sessionmaker() as s:
        return s.execute("select 1").scalar()


def user_count():
    return 0


BUILT = make_hooks()
KNOWN = [user_count]
"""


def test_check_reports_a_call_through_a_container_it_cannot_read_with_am304(app, findings, cli):
    root = app(
        """
        from hooks import BUILT


        @router.get("/built")
        async def built():
            for hook in BUILT:
                hook()
        """,
        {"hooks.py": HOOKS},
    )
    found = findings(root, "built")
    assert [f["code"] for f in found] == ["AM304"]
    assert "`hook()` runs a value taken from `BUILT`, which is no dict, list or tuple display" in found[0]["message"]
    assert cli("check", root).exit_code == 1


def test_near_miss_a_container_it_reads_whole_without_session_work_is_no_finding(app, findings):
    root = app(
        """
        from hooks import KNOWN


        @router.get("/known")
        async def known():
            return [hook() for hook in KNOWN]
        """,
        {"hooks.py": HOOKS},
    )
    assert findings(root, "known") == []


def test_near_miss_a_parametrised_generic_schema_built_in_a_route_is_no_container(app, findings):
    """`Page[Out](items=rows)` builds a Page (phase two writes it so in migrated routes): no value
    taken out of a container the analysis cannot read."""
    root = app(
        """
        from typing import Generic, TypeVar

        from pydantic import BaseModel

        T = TypeVar("T")


        class Out(BaseModel):
            name: str


        class Page(BaseModel, Generic[T]):
            items: list[T]


        @router.get("/page")
        async def page():
            return Page[Out](items=[Out(name="a")])
        """,
    )
    assert findings(root, "page") == []


ROUTE = """
@router.get("/health")
def health():
    return {}
"""

MAIN_HEAD = """
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware

from api.items import router
"""

UNVERIFIED_MIDDLEWARE = MAIN_HEAD + """
class DBMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        try:
            return await call_next(request)
        finally:
            request.app.state.db.close()


app = FastAPI()
app.include_router(router)
app.add_middleware(DBMiddleware)
"""

UNVERIFIED_EXCEPTION_HANDLER = MAIN_HEAD + """
app = FastAPI()
app.include_router(router)


@app.exception_handler(ValueError)
async def on_value_error(request: Request, exc: ValueError):
    request.app.state.session.rollback()
    return JSONResponse({"detail": str(exc)}, status_code=400)
"""

MISLABELLED_AND_UNVERIFIED = """
from fastapi import Request


@router.get("/items")
async def list_items(session: session_dependency, request: Request):
    await session.execute("select 1")
    return request.app.state.db.scalar("select 1")
"""




@pytest.mark.parametrize(
    ("router", "main", "function"),
    [
        (ROUTE, UNVERIFIED_MIDDLEWARE, "DBMiddleware.dispatch"),
        (ROUTE, UNVERIFIED_EXCEPTION_HANDLER, "on_value_error"),
        (MISLABELLED_AND_UNVERIFIED, None, "list_items"),
    ],
    ids=["middleware", "exception-handler", "mislabelled-parameter"],
)
def test_no_command_calls_a_handler_check_finds_unverified_free_of_session_work(
    app, findings, reported, router, main, function
):
    root = app(router, {"main.py": main} if main else None)
    assert [f["code"] for f in findings(root, function)] == ["AM304"]
    for command in ("scan", "phase1"):
        text = " ".join(reported(root, function, command)["reasons"])
        assert "no synchronous Session work" not in text, (command, text)
        assert "unverified" in text, (command, text)


def test_near_miss_a_middleware_without_session_carriers_does_no_session_work(app, findings, reported):
    root = app(ROUTE, {"main.py": MAIN_HEAD + """
class Timing(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        return await call_next(request)


app = FastAPI()
app.include_router(router)
app.add_middleware(Timing)
"""})
    assert findings(root, "Timing.dispatch") == []
    assert "does no synchronous Session work" in " ".join(reported(root, "Timing.dispatch")["reasons"])

def test_model_query_through_a_query_property_out_of_sight_is_unverified(app, findings, reported):
    # `query_property()` of a registry the analysis cannot follow: maybe a Session, never all-clear.
    models = """
from sqlalchemy.orm import DeclarativeBase
from vendor_sdk import registry


class Base(DeclarativeBase):
    query = registry.query_property()


class User(Base):
    __tablename__ = "users"
"""
    root = app(
        """
        from models import User


        @router.get("/users/{email}")
        async def read_user(email: str):
            return User.query.filter_by(email=email).first().id
        """,
        {"models.py": models},
    )
    [finding] = findings(root, "read_user")
    assert finding["code"] == "AM304" and "`User.query`, a `query_property()`" in finding["message"], finding
    entry = reported(root, "read_user", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM125"]), entry


# A Flask-era mixin committing a `scoped_session` global; the route's object comes from a
# dependency with no return annotation, so the flow knows it only as something a query returned.
MIXIN_MODELS = """
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker

db_session = scoped_session(sessionmaker())
Base = declarative_base()
Base.query = db_session.query_property()


class CRUDMixin:
    @classmethod
    def get_by_id(cls, id):
        return cls.query.get(id)

    def save(self):
        db_session.add(self)
        db_session.commit()
        return self

    def describe(self):
        return repr(self)


class User(CRUDMixin, Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String)
"""

MIXIN_DEPS = """
from flaskmodels import User


async def current_user(user_id: int):
    return User.get_by_id(user_id)


def settings():
    return {"name": "x"}
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("user.name = name\nreturn user.save().id", "`user.save()` is called on `user`"),
        ("return describe(user)", None),
        ("return user.describe()", None),
        ("conf.update(name=name)\nreturn conf", None),
    ],
    ids=["model-method-doing-work", "no-method-call", "model-method-without-work", "not-from-the-session"],
)
def test_a_model_method_on_an_untyped_query_result_is_unverified(app, findings, reported, body, expected):
    root = app(
        """
        from fastapi import Depends

        from flaskdeps import current_user, settings


        def describe(user):
            return repr(user)


        @router.patch("/me")
        async def rename_me(name: str, user=Depends(current_user), conf=Depends(settings)):
            {body}
        """.replace("{body}", body.replace("\n", "\n            ")),
        {"flaskmodels.py": MIXIN_MODELS, "flaskdeps.py": MIXIN_DEPS},
    )
    entry = reported(root, "rename_me")
    if expected is None:
        assert findings(root, "rename_me") == [], findings(root, "rename_me")
        assert "does no synchronous Session work" in " ".join(entry["reasons"]), entry
        return
    [finding] = findings(root, "rename_me")
    assert finding["code"] == "AM304" and expected in finding["message"], finding
    assert "it may run CRUDMixin.save, which does synchronous Session work" in finding["message"], finding


PROXY = """
from sqlalchemy.orm import scoped_session, sessionmaker

db_session = scoped_session(sessionmaker())


class SessionProxy:
    def __init__(self, registry):
        self._registry = registry

    def __getattr__(self, name):
        return getattr(self._registry, name)

    def describe(self):
        return "proxy"


class Plain:
    def describe(self):
        return "plain"


class FirstOf:
    def __init__(self, *registries):
        self._registries = registries

    def __getattr__(self, name):
        return getattr(self._registries[0], name)


proxy_db = SessionProxy(db_session)
first_db = FirstOf(db_session)
plain = Plain()
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a `scoped_session` registry: its scope decides what a `def` route would share
        ("proxy_db.commit()", "`proxy_db.commit()` is called on `proxy_db`, a SessionProxy that declares no `commit`"),
        ("first_db.commit()", "`first_db.commit()` is called on `first_db`, a FirstOf that declares no `commit`"),
        ("return proxy_db.describe()", None),
        ("return plain.describe()", None),
    ],
    ids=["forwarded-registry", "forwarded-unread", "declared-method", "no-getattr"],
)
def test_a_method_a_getattr_forwards_is_unverified(app, findings, reported, body, expected):
    root = app(
        """
        from proxies import first_db, plain, proxy_db


        @router.post("/tags")
        async def add_tag():
            {body}
        """.replace("{body}", body),
        {"proxies.py": PROXY},
    )
    if expected is None:
        assert findings(root, "add_tag") == []
        assert "does no synchronous Session work" in " ".join(reported(root, "add_tag")["reasons"])
        return
    [finding] = findings(root, "add_tag")
    assert finding["code"] == "AM304" and expected in finding["message"], finding
    # the proxy has no dependency whose return type could be annotated
    assert "annotate the dependency's return type" not in finding["message"], finding
    assert "call the Session the proxy forwards to through a function annotated to return it" in finding["message"]


FAILOVER = """
from typing import Any

import redis
from sqlalchemy.orm import sessionmaker

SessionLocal = sessionmaker()


class FailoverProxy:
    def __init__(self, sentinel: Any, service: str) -> None:
        self._sentinel = sentinel
        self._service = service
        self._master = None

    def __getattr__(self, name):
        current = self._resolve_master()
        original = getattr(current, name)
        if not callable(original):
            return original
        return self._wrap(name)

    def _resolve_master(self):
        if self._master is None:
            self._master = self._sentinel.master_for(self._service)
        return self._master

    def _wrap(self, name):
        def wrapper(*args, **kwargs):
            return getattr(self._resolve_master(), name)(*args, **kwargs)
        return wrapper


def build(redis_module: Any, service: str) -> FailoverProxy:
    sentinel = redis_module.sentinel.Sentinel([("localhost", 26379)])
    return FailoverProxy(sentinel, service)


def connect():
    import redis.asyncio as redis_mod

    return build(redis_mod, "mymaster")


class Retrying:
    def __init__(self, target) -> None:
        self._target = target

    def __getattr__(self, name):
        method = getattr(self._target, name)
        return method


cache = connect()
store = Retrying(SessionLocal())
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # what `__getattr__` forwards to is read back to a library's call: a Redis client, no Session
        ("return cache.get('models')", None),
        # the same shape handed a Session where it is built: `get` is a Session method there
        ("return store.get(1)", "`store.get()` is called on `store`, a Retrying that declares no `get`"),
    ],
    ids=["forwards-to-redis", "forwards-to-session"],
)
def test_a_getattr_forwarding_to_what_is_no_session_is_no_finding(app, findings, reported, body, expected):
    root = app(
        """
        from proxies import cache, store


        @router.get("/models")
        async def list_models():
            {body}
        """.replace("{body}", body),
        {"proxies.py": FAILOVER},
    )
    if expected is None:
        assert findings(root, "list_models") == []
        assert "does no synchronous Session work" in " ".join(reported(root, "list_models")["reasons"])
        return
    [finding] = findings(root, "list_models")
    assert finding["code"] == "AM304" and expected in finding["message"], finding


TENANCY = """
from collections.abc import AsyncIterator

from fastapi import Header, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from vendor_sdk import tenant_registry

async_engine = create_async_engine("sqlite+aiosqlite://")
AsyncSessionLocals = {
    t: async_sessionmaker(async_engine.execution_options(schema_translate_map={"tenant": t}))
    for t in ("acme", "globex")
}
registry_session = tenant_registry()


async def get_async_tenant_db(x_tenant: str = Header()) -> AsyncIterator[AsyncSession]:
    maker = {lookup}
    if maker is None:
        raise HTTPException(404)
    async with maker() as session:
        yield session
"""


@pytest.mark.parametrize("declared", ["AsyncSessionLocals = {", "AsyncSessionLocals: dict[str, async_sessionmaker] = {"])
def test_near_miss_a_sessionmaker_looked_up_in_a_module_level_dict_is_no_finding(app, findings, cli, declared):
    """`AsyncSessionLocals.get(tenant)` is the dict's own `get`, whatever the dict is called, and
    what it holds are async_sessionmakers: a dependency written by hand for phase two's per-tenant
    stack is no unverified Session work."""
    tenancy = TENANCY.replace("AsyncSessionLocals = {", declared)
    root = app(
        """
        from fastapi import Depends
        from sqlalchemy.ext.asyncio import AsyncSession

        from tenancy import get_async_tenant_db


        @router.get("/items")
        async def list_items(db: AsyncSession = Depends(get_async_tenant_db)):
            return (await db.execute(select(1))).scalar()
        """,
        {"tenancy.py": tenancy.replace("{lookup}", "AsyncSessionLocals.get(x_tenant)")},
    )
    assert findings(root, "get_async_tenant_db") == [], [f["message"] for f in findings(root, "get_async_tenant_db")]
    assert cli("check", root).exit_code == 0


def test_an_untyped_module_level_value_named_like_a_session_is_still_unverified(app, findings):
    root = app(
        """
        from fastapi import Depends
        from sqlalchemy.ext.asyncio import AsyncSession

        from tenancy import get_async_tenant_db


        @router.get("/items")
        async def list_items(db: AsyncSession = Depends(get_async_tenant_db)):
            return (await db.execute(select(1))).scalar()
        """,
        {"tenancy.py": TENANCY.replace("{lookup}", "registry_session.get(x_tenant)")},
    )
    found = findings(root, "get_async_tenant_db")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "`registry_session.get()`" in found[0]["message"], found


def test_a_sync_sessionmaker_looked_up_in_a_dict_by_an_async_dependency_is_still_reported(app, findings, cli):
    sync = TENANCY.replace("async_sessionmaker(async_engine", "sessionmaker(engine").replace(
        "from sqlalchemy.ext.asyncio import", "from sqlalchemy import create_engine\nfrom sqlalchemy.orm import sessionmaker\n"
        "from sqlalchemy.ext.asyncio import",
    ).replace('async_engine = create_async_engine("sqlite+aiosqlite://")', 'engine = create_engine("sqlite://")')
    sync = sync.replace("    async with maker() as session:\n        yield session\n",
                        "    with maker() as session:\n        session.execute(select(1))\n        yield session\n")
    sync = "from sqlalchemy import select\n" + sync.lstrip("\n")
    root = app(
        """
        from fastapi import Depends

        from tenancy import get_async_tenant_db


        @router.get("/items")
        async def list_items(db=Depends(get_async_tenant_db)):
            return 1
        """,
        {"tenancy.py": sync.replace("{lookup}", "AsyncSessionLocals.get(x_tenant)")},
    )
    found = findings(root, "get_async_tenant_db")
    assert [f["code"] for f in found] in (["AM301"], ["AM304"]), found
    assert cli("check", root).exit_code == 1


ASYNC_MAKER = """
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

async_engine = create_async_engine("sqlite+aiosqlite://")
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)
"""


@pytest.mark.parametrize("opener", ["asyncdb.async_database_sessionmaker", "async_database_sessionmaker"])
def test_near_miss_begin_on_a_module_level_async_sessionmaker_is_typed(app, findings, cli, opener):
    # phase two writes `async with database.async_database_sessionmaker.begin() as s:` for
    # `with database.SessionLocal.begin() as s:`; its own output must pass `check`
    root = app(
        f"""
        import asyncdb
        from sqlalchemy import select

        from asyncdb import async_database_sessionmaker


        @router.get("/items")
        async def list_items():
            async with {opener}.begin() as session:
                return (await session.scalars(select(1))).all()
        """,
        {"asyncdb.py": ASYNC_MAKER},
    )
    assert findings(root, "list_items") == []
    assert cli("check", root).exit_code == 0


SESSIONS_BY_ROLE = """
from core.dependencies import SessionLocal


def get_dbs():
    rw, ro = SessionLocal(), SessionLocal()
    try:
        yield {"rw": rw, "ro": ro}
    finally:
        rw.close()
        ro.close()
"""


@pytest.mark.parametrize("body", [
    'return [i.id for i in dbs["ro"].scalars(select(Item))]',  # a method naming a Session
    'dbs["rw"].commit()',  # a Session method on a container named like Sessions
    'db = dbs["rw"]\ndb.commit()',  # the item kept in a local named like a Session
    'return [i.id for i in request.state.sessions["ro"].scalars(select(Item))]',
])
def test_session_work_on_an_item_of_an_untyped_container_is_unverified(app, findings, body):
    """A dict of Sessions (the writer's and the replica's) a dependency yields or a middleware
    keeps on request.state: a method called on one of its items was no Session work, a clean
    route."""
    root = app(
        """
        from fastapi import Depends, Request

        from models import Item
        from sessions import get_dbs


        @router.get("/items")
        async def list_items(request: Request, dbs: dict = Depends(get_dbs)):
            {body}
        """.replace("{body}", body.replace("\n", "\n            ")),
        {"sessions.py": SESSIONS_BY_ROLE},
    )
    found = findings(root, "list_items")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "is called on an item taken by subscript out of `" in found[0]["message"], found


@pytest.mark.parametrize("body", [
    'return handlers["ro"].execute(1)',  # a Session-like method on a container named otherwise
    'return await dbs["ro"].scalars(select(Item))',  # awaited: an AsyncSession
    'handler = handlers["rw"]\nhandler.commit()',
])
def test_near_miss_an_item_of_a_container_not_named_like_sessions_is_no_finding(app, findings, body):
    root = app(
        """
        from fastapi import Depends

        from models import Item
        from sessions import get_dbs

        handlers = {}


        @router.get("/items")
        async def list_items(dbs: dict = Depends(get_dbs)):
            {body}
        """.replace("{body}", body.replace("\n", "\n            ")),
        {"sessions.py": SESSIONS_BY_ROLE},
    )
    assert findings(root, "list_items") == []


ACTIVE_RECORD = """
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import declarative_base, scoped_session, sessionmaker
from sqlalchemy_mixins import AllFeaturesMixin

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)
db_session = scoped_session(SessionLocal)
settings = {"page": 20}
Base = declarative_base()


class BaseModel(Base, AllFeaturesMixin):
    __abstract__ = True


class Member(BaseModel):
    __tablename__ = "members"
    id = Column(Integer, primary_key=True)
    name = Column(String)

    def describe(self):
        return self.name


{handoff}
"""


@pytest.mark.parametrize(
    ("handoff", "body", "expected"),
    [
        ("BaseModel.set_session(db_session)", "return Member.find(1)",
         "`Member.find()` is no method of Member the project defines: it comes from a base outside PATH, "
         "which was handed a synchronous Session (`BaseModel.set_session(...)`, ar.py:"),
        ("BaseModel.session = db_session", "Member(name='x').save()", "`Member().save()` is no method of Member"),
        ("def startup():\n    BaseModel.set_session(SessionLocal())", "return Member.where(name='x').all()",
         "`Member.where()` is no method of Member"),
        ("BaseModel.set_session(db_session)", "return Member(name='x').describe()", None),
        ("BaseModel.set_settings(settings)", "return Member.find(1)", None),
        ("BaseModel.prepare(engine)", "return Member.find(1)", None),
    ],
    ids=["set-session", "session-attribute", "in-a-function", "near-miss-own-method", "near-miss-no-session",
         "near-miss-mapping-call"],
)
def test_a_method_a_library_base_holding_the_session_runs_is_unverified(app, findings, reported, handoff, body, expected):
    """sqlalchemy-mixins' ActiveRecord style: `User.find(1)` runs a query on the Session the base was
    handed; without this, the route was all-clear."""
    root = app(
        """
        from ar import Member


        @router.get("/members")
        async def list_members():
            {body}
        """.replace("{body}", body),
        {"ar.py": ACTIVE_RECORD.replace("{handoff}", handoff)},
    )
    if expected is None:
        assert findings(root, "list_members") == []
        return
    [finding] = findings(root, "list_members")
    assert finding["code"] == "AM304" and expected in finding["message"], finding
    assert reported(root, "list_members")["action"] == "keep"


VENDOR_DEPS = """
from fastapi_utils.session import FastAPISessionMaker
from vendor import maker, http

from db.engine import database_sessionmaker

sm = FastAPISessionMaker("sqlite://")


def get_db():
    yield from maker.get_db()


def get_db_local():
    db = maker.new_session()
    try:
        yield db
    finally:
        db.close()


def get_db_utils():
    yield from sm.get_db()


def get_session():
    with database_sessionmaker() as session:
        yield session


def get_db_project():
    yield from get_session()


def get_client():
    return http.Client()
"""


@pytest.mark.parametrize(
    ("params", "body", "code", "expected"),
    [
        ("db=Depends(get_db)", "return db.execute(text('select 1')).all()", "AM304",
         "`db.execute()` is called on `db`, which `Depends(get_db)` gives from `vendor.maker.get_db()`, code "
         "outside PATH the analysis cannot see"),
        ("db=Depends(get_db_local)", "return db.scalars(text('select 1')).all()", "AM304",
         "which `Depends(get_db_local)` gives from `vendor.maker.new_session()`"),
        ("db=Depends(get_db_utils)", "db.commit()", "AM304", "which `Depends(get_db_utils)` gives from `sm.get_db()`"),
        ("", "with sm.context_session() as db:\n                return db.execute(text('select 1')).all()", "AM304",
         "`db.execute()` is called on `db`, entered from `sm.context_session()`"),
        ("db=Depends(get_db_project)", "return db.execute(text('select 1')).all()", "AM301", "db.execute()"),
        ("client=Depends(get_client)", "return client.get('/x')", None, None),
        ("db=Depends(get_db)", "return await db.execute(text('select 1'))", None, None),
    ],
    ids=["yield-from-library", "yielded-local", "fastapi-utils", "entered", "yield-from-project",
         "near-miss-no-session", "near-miss-awaited"],
)
def test_a_session_a_dependency_takes_from_outside_path_is_unverified(app, findings, params, body, code, expected):
    """`def get_db(): yield from maker.get_db()` on a library's session maker: the route's
    `db.execute()` was no Session work and check all-clear."""
    root = app(
        """
        from fastapi import Depends
        from sqlalchemy import text

        from deps import get_client, get_db, get_db_local, get_db_project, get_db_utils, sm


        @router.get("/rows")
        async def rows({params}):
            {body}
        """.replace("{params}", params).replace("{body}", body),
        {"deps.py": VENDOR_DEPS},
    )
    found = findings(root, "rows")
    if code is None:
        assert found == []
        return
    assert [f["code"] for f in found] == [code], found
    assert expected in found[0]["message"], found


PROVIDERS = """
from typing import Callable

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.engine import get_db_session


class Notes:
    def __init__(self, db: Session) -> None:
        self.db = db

    def count(self) -> int:
        return self.db.execute(text("select 1")).scalar()


def provide_notes(db: Session = Depends(get_db_session)) -> Notes:
    return Notes(db)


PROVIDERS = {"notes": provide_notes}


class _Provide:
    def __getitem__(self, name: str) -> Callable:
        return PROVIDERS[name]


Provide = _Provide()


def provider(name: str) -> Callable:
    return PROVIDERS[name]
"""


@pytest.mark.parametrize("written", ['PROVIDERS["notes"]', 'Provide["notes"]', 'provider("notes")'])
def test_a_service_a_project_provider_table_picks_is_unverified_not_clean(app, findings, reported, written):
    # The table holds a provider building a service on the Session: `notes.count()` runs its queries.
    root = app(
        f"""
        from fastapi import Depends

        from providers import PROVIDERS, Provide, provider


        @router.get("/count")
        async def count_notes(notes=Depends({written})):
            return {{"n": notes.count()}}
        """,
        {"providers.py": PROVIDERS},
    )
    found = findings(root, "count_notes")
    assert [f["code"] for f in found] == ["AM304"], found
    assert f"`notes` comes from `Depends({written})`, which the analysis cannot follow: `notes.count()` may do " \
        "synchronous Session work through what it holds" in found[0]["message"]
    entry = reported(root, "count_notes", "phase1")
    assert entry["action"] == "keep" and "AM125" in entry["codes"], entry


def test_near_miss_a_provider_table_value_only_handed_back_and_a_typed_one(app, findings, reported):
    root = app(
        """
        from fastapi import Depends

        from providers import PROVIDERS, Notes


        @router.get("/settings")
        async def settings(notes=Depends(PROVIDERS["notes"])):
            return {"kind": type(notes).__name__}


        @router.get("/typed")
        async def typed(notes: Notes = Depends(PROVIDERS["notes"])):
            return {"n": notes.count()}
        """,
        {"providers.py": PROVIDERS},
    )
    assert findings(root, "settings") == []
    # typed by its annotation: the Session work is seen, and phase one converts it
    assert reported(root, "typed", "phase1")["action"] == "convert"


# fastapi-crudrouter's shape: the router keeps the session dependency it was handed and each
# method returns a route whose default reads it (`Depends(self.db_func)`).
HELD_DEPENDENCY = """
from fastapi import APIRouter, Depends


class ModelRouter(APIRouter):
    def __init__(self, model, db, prefix):
        super().__init__(prefix=prefix)
        self.model = model
        self.db_func = db
        self.add_api_route("", self._get_all(), methods=["GET"])

    def _get_all(self):
        async def route({param}):
            return {body}

        return route
"""


@pytest.mark.parametrize(
    "param",
    ["db=Depends(self.db_func)", "db=self.session_dep", "db=Depends(self.deps.session)"],
)
def test_a_route_reading_its_factorys_held_dependency_is_unverified_not_clean(app, findings, reported, param):
    body = "db.query(self.model).all()"
    root = app("", {"api/generic.py": HELD_DEPENDENCY.format(param=param, body=body)})
    function = "ModelRouter._get_all.<locals>.route"
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM304"], found
    assert "`db.query()` may be synchronous Session work" in found[0]["message"]
    assert reported(root, function, "phase1")["codes"] == ["AM125"]


# A function factory's route depending on an attribute of an object the factory was given.
FUNCTION_FACTORY = """
from fastapi import Depends


def list_endpoint(model, config):
    async def endpoint(db=Depends(config.get_db)):
        return db.query(model).all()

    return endpoint


router.add_api_route("/all", list_endpoint(object, None), methods=["GET"])
"""


def test_a_function_factorys_dependency_on_an_object_it_was_given_is_unverified(app, findings):
    root = app(FUNCTION_FACTORY)
    found = findings(root, "list_endpoint.<locals>.endpoint")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "comes from `Depends(config.get_db)`" in found[0]["message"]


def test_near_miss_a_held_dependency_giving_settings_is_no_finding(app, findings):
    body = '{"page": settings.get("page")}'
    source = HELD_DEPENDENCY.format(param="settings=Depends(self.settings)", body=body)
    root = app("", {"api/generic.py": source})
    assert findings(root, "ModelRouter._get_all.<locals>.route") == []


@pytest.mark.parametrize("param", ["db=Depends(self.db_func)", "db=self.session_dep", "db=Depends(self.deps.session)"])
def test_a_held_dependency_is_advised_an_annotated_parameter_not_a_return_type(app, findings, reported, param):
    # What the router holds is set where it is built: no dependency return type to annotate.
    root = app("", {"api/generic.py": HELD_DEPENDENCY.format(param=param, body="db.query(self.model).all()")})
    function = "ModelRouter._get_all.<locals>.route"
    advice = "annotate the parameter (`db: Session`) or have it depend on the dependency function itself"
    [found] = findings(root, function)
    assert advice in found["message"] and "return type" not in found["message"]
    [reason] = reported(root, function, "phase1")["reasons"]
    assert reason.endswith(f"; {advice}, not on what `self` holds")


def test_a_function_factorys_held_dependency_is_advised_an_annotated_parameter(app, findings):
    root = app(FUNCTION_FACTORY)
    [found] = findings(root, "list_endpoint.<locals>.endpoint")
    assert "annotate the parameter (`db: Session`)" in found["message"]
    assert "return type" not in found["message"]


# A module under PATH that cannot be read (a syntax error mid-edit): the helper it defines may open
# a Session of its own. With that file excluded, check reported nothing on the route and exited 0.
UNREADABLE = """
from db.engine import database_sessionmaker


def count():
    with database_sessionmaker() as session:
        return session.execute("select count(*) from items").scalar()

print("unfinished"
"""

CALLS_COUNT = """
from services.stats import count


@router.get("/stats")
async def stats():
    return {"n": count()}
"""


@pytest.mark.parametrize("exclude", [(), ("--exclude", "services/stats.py")])
def test_a_call_into_a_module_that_cannot_be_read_is_unverified(app, cli, reported, exclude):
    root = app(CALLS_COUNT, {"services/__init__.py": "", "services/stats.py": UNREADABLE})
    document = cli.json("check", root, *exclude)
    found = [f for f in document["findings"] if f["function"] == "stats"]
    assert [f["code"] for f in found] == ["AM304"], document["findings"]
    assert "`services.stats`, a module under PATH that could not be read" in found[0]["message"]
    assert cli("check", root, *exclude).exit_code == (1 if exclude else 3)
    entry = reported(root, "stats", "phase1", *exclude)
    assert entry["action"] == "keep" and entry["codes"] == ["AM125"], entry


def test_near_miss_a_readable_module_of_an_unreadable_package_is_read(app, findings):
    # The package's own `__init__` cannot be read; its submodule can, and it does no Session work.
    root = app(CALLS_COUNT, {"services/__init__.py": "x = (\n", "services/stats.py": "def count():\n    return 1\n"})
    assert findings(root, "stats") == []


# Another library's client held in a module-level name a Session would have (`session`, `db`),
# used by a helper an async route calls: its `get()` is the client's, typed by its class.
@pytest.mark.parametrize("made", [
    "import requests\n\nsession = requests.Session()",
    "from requests import Session\n\nsession = Session()",
    "import httpx\n\nsession = httpx.Client()",
    "import redis\n\ndb = redis.Redis(host='localhost')",
    "from redis import Redis as Cache\n\ndb = Cache()",
])
def test_near_miss_a_library_client_named_like_a_session(app, findings, reported, made):
    name = "db" if "\ndb = " in made else "session"
    root = app(
        """
        from clients import fetch


        @router.get("/rate")
        async def rate(currency: str):
            return {"rate": fetch(currency)}
        """,
        {"clients.py": f"{made}\n\n\ndef fetch(key):\n    return {name}.get(key)\n"},
    )
    assert findings(root, "rate") == []
    assert reported(root, "rate", "phase1")["action"] == "keep"
    assert reported(root, "rate", "phase1")["codes"] == ["AM105"]


def test_a_client_built_by_code_the_analysis_cannot_read_stays_unverified(app, findings):
    root = app(
        """
        from clients import fetch


        @router.get("/rate")
        async def rate(currency: str):
            return {"rate": fetch(currency)}
        """,
        {"clients.py": "from vendor_sdk import connect\n\nsession = connect()\n\n\ndef fetch(key):\n    return session.get(key)\n"},
    )
    assert [f["code"] for f in findings(root, "rate")] == ["AM304"]


def test_near_miss_starlette_request_session_is_a_dict(app, findings, reported):
    root = app(
        """
        from fastapi import Request


        @router.get("/me")
        async def me(request: Request):
            return {"uid": request.session.get("uid")}
        """,
    )
    assert findings(root, "me") == []
    assert reported(root, "me", "phase1")["codes"] == ["AM105"]


def test_a_session_kept_on_request_state_stays_unverified(app, findings):
    root = app(
        """
        from fastapi import Request


        @router.get("/me")
        async def me(request: Request):
            return {"uid": request.state.session.get(1)}
        """,
    )
    assert [f["code"] for f in findings(root, "me")] == ["AM304"]


# A dependency handing its route a client another library makes (`redis.Redis()`, a
# `requests.Session()` entered and yielded): what it gives is typed by its class, no Session.
@pytest.mark.parametrize("provider", [
    "import redis\n\n\ndef get_db():\n    return redis.Redis()\n",
    "from redis import Redis\n\n\ndef get_db():\n    db = Redis()\n    yield db\n",
    "from requests import Session\n\n\ndef get_db():\n    with Session() as db:\n        yield db\n",
    "import redis\n\nPOOL = redis.Redis()\n\n\ndef get_db():\n    return POOL.pipeline()\n",
])
def test_near_miss_a_dependency_giving_a_library_client(app, findings, reported, provider):
    root = app(
        """
        from fastapi import Depends

        from clients import get_db


        @router.get("/k")
        async def read(db=Depends(get_db)):
            return {"k": db.get("k")}
        """,
        {"clients.py": provider},
    )
    assert findings(root, "read") == []
    assert reported(root, "read", "phase1")["codes"] == ["AM105"]


def test_a_dependency_giving_what_a_vendor_makes_stays_unverified(app, findings):
    root = app(
        """
        from fastapi import Depends

        from clients import get_db


        @router.get("/k")
        async def read(db=Depends(get_db)):
            return {"k": db.get("k")}
        """,
        {"clients.py": "import vendor_sdk\n\n\ndef get_db():\n    db = vendor_sdk.connect()\n    yield db\n"},
    )
    assert [f["code"] for f in findings(root, "read")] == ["AM304"]


GROUPED = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session


def get_pair(db: Session = Depends(get_db_session)):
    return db, "me"


def get_sessions(db: Session = Depends(get_db_session)):
    return [db]
"""


@pytest.mark.parametrize("body", [
    "db, user = pair\nreturn db.scalars(select(Book)).all()",
    "(db, user), n = pair, 1\ndb.commit()\nreturn {}",
    "return pair[0].scalars(select(Book)).all()",
    "db = pair[0]\nreturn db.scalars(select(Book)).all()",
    "return [s.scalars(select(Book)).all() for s in sessions]",
    "for s in sessions:\n    s.commit()\nreturn {}",
])
def test_a_session_a_dependency_puts_in_a_tuple_or_list_stays_unverified(app, findings, cli, body):
    # `db, user = pair`: an element of what a dependency built from the Session, read by no
    # notation the flow follows, was "no Session work" and check passed the route
    source = (
        "from fastapi import Depends\nfrom sqlalchemy import select\n\nfrom deps import get_pair, get_sessions\n"
        "from models import Book\n\n\n@router.get(\"/items\")\n"
        "async def read(pair=Depends(get_pair), sessions=Depends(get_sessions)):\n"
        + textwrap.indent(body, "    ") + "\n"
    )
    root = app(
        source,
        {"deps.py": GROUPED, "models.py": MODELS},
    )
    found = findings(root, "read")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "built from the Session by Depends(get_" in found[0]["message"] or (
        "an item taken by subscript out of `pair`" in found[0]["message"]
    ), found[0]["message"]
    assert cli("check", root).exit_code == 1


def test_near_miss_a_tuple_of_plain_values_is_no_session(app, findings):
    root = app(
        """
        from fastapi import Depends


        def get_page(page: int = 1, size: int = 10):
            return page, size


        @router.get("/items")
        async def read(paging=Depends(get_page)):
            page, size = paging
            return {"page": page.bit_length(), "size": size}
        """
    )
    assert findings(root, "read") == []


def test_near_miss_rows_of_what_a_dependency_built_are_no_session(app, findings):
    # the elements of an untyped list the dependency built from the Session are most often rows:
    # only a Session method called on one may be the Session itself
    root = app(
        """
        from fastapi import Depends
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from db.engine import get_db_session
        from models import Book


        def get_rows(db: Session = Depends(get_db_session)):
            return [dict(title=t) for t in db.scalars(select(Book.title))]


        @router.get("/items")
        async def read(rows=Depends(get_rows)):
            return [row.copy() for row in rows]
        """,
        {"models.py": MODELS},
    )
    assert findings(root, "read") == []


# An ActiveRecord mixin reaching its Session through a class attribute set at startup
# (`ActiveRecord.session = db_session` in main.py), which the analysis cannot type.
CLASS_SESSION_MODELS = """
from sqlalchemy import Column, Integer, String
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
    avatar = Column(String)
"""
CLASS_SESSION_HELPERS = """
import asyncio

from sqlalchemy.orm import Session

from armodels import User


async def fetch_avatar(user_id: int) -> str:
    await asyncio.sleep(0)
    return f"https://avatars.example/{user_id}.png"


def save_avatar(db: Session, user_id: int, url: str) -> None:
    db.get(User, user_id).avatar = url
    db.commit()
"""


@pytest.mark.parametrize(
    ("lookup", "expected"),
    [("User.get(user_id)", ["AM304"]), ("await run_in_threadpool(User.get, user_id)", [])],
    ids=["left-on-the-loop", "offloaded-too"],
)
def test_an_unverified_call_beside_offloaded_session_work_is_still_reported(app, findings, cli, lookup, expected):
    # Offloading the Session work the analysis sees (`save_avatar`) says nothing of the call it
    # cannot see (`User.get` through the untyped `cls.session`), still run on the event loop.
    root = app(
        f"""
        from fastapi.concurrency import run_in_threadpool

        from armodels import User
        from helpers import fetch_avatar, save_avatar


        @router.post("/users/{{user_id}}/avatar")
        async def refresh_avatar(user_id: int, db: session_dependency):
            user = {lookup}
            url = await fetch_avatar(user.id)
            await run_in_threadpool(save_avatar, db, user_id, url)
            return {{"url": url}}
        """,
        {"armodels.py": CLASS_SESSION_MODELS, "helpers.py": CLASS_SESSION_HELPERS},
    )
    found = findings(root, "refresh_avatar")
    assert [f["code"] for f in found] == expected, found
    if expected:
        assert "calls armodels.ActiveRecord.get (line 16)" in found[0]["message"], found
        assert "`cls.session.get()` is called on `cls.session`" in found[0]["message"], found
    assert cli("check", root).exit_code == (1 if expected else 0)


# Module-level `functools.partial`s of a project class or function binding a Session: calling one
# runs code the flow does not follow (neither is an edge of the call graph).
PARTIALS = """
from functools import partial

from sqlalchemy import text
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker


class Svc:
    def __init__(self, db: Session) -> None:
        self.db = db

    @property
    def total(self) -> int:
        return self.db.execute(text("select 1")).scalar_one()

    def count(self) -> int:
        return self.db.execute(text("select 1")).scalar_one()

    def label(self) -> str:
        return "svc"


def count_with(db: Session) -> int:
    return db.execute(text("select 1")).scalar_one()


def double(n: int) -> int:
    return n * 2


make_svc = partial(Svc, database_sessionmaker())
counter = partial(count_with, database_sessionmaker())
doubler = partial(double, 2)
"""


@pytest.mark.parametrize(("body", "expected"), [
    ("make_svc().total", "`make_svc().total` runs Svc.total on an instance `make_svc()` builds (a `functools.partial` of Svc)"),
    ("make_svc().count()", "`make_svc().count()` runs Svc.count on an instance `make_svc()` builds"),
    ("counter()", "`counter()` runs count_with through what holds it (a `functools.partial`"),
    ("make_svc().label()", None),  # a method doing no Session work
    ("doubler()", None),  # a function taking no Session
])
def test_a_call_through_a_module_level_partial_binding_a_session_is_unverified(app, findings, body, expected):
    root = app(
        f"""
        from partials import counter, doubler, make_svc


        @router.get("/n")
        async def read():
            return {{"n": {body}}}
        """,
        {"partials.py": PARTIALS},
    )
    found = findings(root, "read")
    if expected is None:
        assert found == [], found
        return
    assert [f["code"] for f in found] == ["AM304"], found
    assert expected in found[0]["message"], found[0]["message"]
    assert "annotate the dependency's return type" not in found[0]["message"]


def test_a_tuple_dependencys_session_is_named_plainly_with_the_return_type_to_annotate(app, findings):
    # `db.scalars().all()` read "`db.scalars().all()` is called on `db.scalars()`", and the advice
    # did not say what to annotate
    root = app(
        """
        from fastapi import Depends
        from sqlalchemy import select

        from deps import get_pair
        from models import Book


        @router.get("/items")
        async def read(pair=Depends(get_pair)):
            db, user = pair
            return db.scalars(select(Book)).all()
        """,
        {"deps.py": GROUPED, "models.py": MODELS},
    )
    (found,) = findings(root, "read")
    assert "`db.scalars()` is called on `db`, built from the Session by Depends(get_pair)" in found["message"], found
    assert "called on `db.scalars()`" not in found["message"], found
    assert "annotate the return type of `get_pair`" in found["message"], found


def test_near_miss_the_tuple_dependency_annotated_is_followed(app, findings):
    root = app(
        """
        from fastapi import Depends
        from sqlalchemy import select

        from deps import get_pair
        from models import Book


        @router.get("/items")
        async def read(pair=Depends(get_pair)):
            db, user = pair
            return db.scalars(select(Book)).all()
        """,
        {"deps.py": GROUPED.replace('Depends(get_db_session)):\n    return db, "me"',
                                    'Depends(get_db_session)) -> tuple[Session, str]:\n    return db, "me"'),
         "models.py": MODELS},
    )
    assert [f["code"] for f in findings(root, "read")] == ["AM301"]


FACTORY_REPOSITORY = """
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.engine import database_sessionmaker
from models import Book


class AuditRepository:
    def __init__(self, session_factory{annotation}):
        self.session_factory = session_factory

    def recent(self) -> list[str]:
        with self.session_factory() as s:
            return [b.title for b in s.scalars(select(Book))]


class Factory:
    def __init__(self, factory, **deps):
        self.factory = factory
        self.deps = deps

    def __call__(self):
        return self.factory(**self.deps)


# handed through a table the analysis does not read (`session_factory=database_sessionmaker`
# written out is followed into the parameter: AM301)
DEPS = {"session_factory": database_sessionmaker}
audit = Factory(AuditRepository, **DEPS)
"""


def test_a_session_factory_kept_from_an_unannotated_init_parameter_is_named_in_the_advice(app, findings):
    # the dependency is a hand-rolled provider instance, with no return type to annotate: what
    # lacks a type is the parameter the repository keeps its sessionmaker from
    root = app(
        """
        from fastapi import Depends

        from repositories import AuditRepository, audit


        @router.get("/history")
        async def history(repo: AuditRepository = Depends(audit)):
            return repo.recent()
        """,
        {"repositories.py": FACTORY_REPOSITORY.replace("{annotation}", ""), "models.py": MODELS},
    )
    (found,) = findings(root, "history")
    assert found["code"] == "AM304", found
    assert "annotate the parameter `session_factory` of `AuditRepository.__init__`" in found["message"], found
    assert "annotate the dependency's return type" not in found["message"], found


def test_near_miss_the_init_parameter_annotated_is_followed(app, findings):
    root = app(
        """
        from fastapi import Depends

        from repositories import AuditRepository, audit


        @router.get("/history")
        async def history(repo: AuditRepository = Depends(audit)):
            return repo.recent()
        """,
        {"repositories.py": FACTORY_REPOSITORY.replace("{annotation}", ": sessionmaker[Session]"), "models.py": MODELS},
    )
    assert [f["code"] for f in findings(root, "history")] == ["AM301"]
