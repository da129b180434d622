"""AM126 process-wide-session: a Session object the whole process shares keeps the route async."""

from __future__ import annotations

import pytest

GLOBAL = """
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

SessionLocal = sessionmaker(bind=create_engine("sqlite:///./app.db"))
db = SessionLocal()
"""
# Scoped to the request (a context variable the application sets per request), so neither
# shared by the process (AM126) nor left open on threadpool workers (AM132).
SCOPED = """
from contextvars import ContextVar

from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

request_scope: ContextVar[object] = ContextVar("request_scope")


def enter_request() -> None:  # what a middleware runs per request
    request_scope.set(object())
SessionLocal = sessionmaker(bind=create_engine("sqlite:///./app.db"))
db = scoped_session(SessionLocal, scopefunc=request_scope.get)
"""
REPOSITORY = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

SessionLocal = sessionmaker(bind=create_engine("sqlite:///./app.db"))


class Counter:
    def __init__(self):
        self.db = SessionLocal()

    def bump(self):
        self.db.execute(text("select 1"))
        self.db.commit()
"""


def test_a_module_global_session_keeps_the_route_with_am126_and_check_flags_it(app, reported, findings):
    root = app(
        """
        from sqlalchemy import text

        from db.shared import db


        @router.post("/counter")
        async def bump():
            db.execute(text("select 1"))
            db.commit()
        """,
        {"db/shared.py": GLOBAL},
    )
    entry = reported(root, "bump", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert "api/items.py:15 (`db.execute()`) on `db`, created once at import time (db/shared.py" in entry["reasons"][0]
    found = findings(root, "bump")
    assert [f["code"] for f in found] == ["AM301"]
    fix = found[0]["message"].split("; fix: ", 1)[1]
    assert "scoped_session" in fix and "run_in_threadpool" not in fix, found[0]


def test_a_session_held_by_a_module_level_instance_keeps_the_route(app, reported):
    root = app(
        """
        from db.repository import Counter

        counter = Counter()


        @router.post("/counter")
        async def bump():
            counter.bump()
        """,
        {"db/repository.py": REPOSITORY},
    )
    entry = reported(root, "bump", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert "`self.db`, opened once by the module-level instance `api.items.counter`" in entry["reasons"][0]


def test_near_miss_a_request_scoped_session_global_converts(app, reported):
    root = app(
        """
        from sqlalchemy import text

        from db.shared import db


        @router.post("/counter")
        async def bump():
            db.execute(text("select 1"))
            db.commit()
        """,
        {"db/shared.py": SCOPED},
    )
    entry = reported(root, "bump", "phase1")
    assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry


def test_near_miss_an_instance_made_per_request_converts(app, reported):
    root = app(
        """
        from db.repository import Counter


        @router.post("/counter")
        async def bump():
            Counter().bump()
        """,
        {"db/repository.py": REPOSITORY},
    )
    entry = reported(root, "bump", "phase1")
    assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry


@pytest.mark.parametrize("body", [
    "SessionLocal().execute(text(\"select 1\"))",  # the module-level maker called in place
    "work = lambda: SessionLocal().execute(text(\"select 1\"))\n            work()",
])
def test_near_miss_a_session_the_module_level_maker_makes_per_call_converts(app, reported, body):
    root = app(
        f"""
        from sqlalchemy import text

        from db.shared import SessionLocal


        @router.post("/counter")
        async def bump():
            {body}
        """,
        {"db/shared.py": GLOBAL},
    )
    entry = reported(root, "bump", "phase1")
    assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry


PROPERTY = """
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker


class Database:
    def __init__(self, factory) -> None:
        self._registry = scoped_session(factory)

    @property
    def session(self) -> Session:
        return self._registry()


database = Database(sessionmaker(bind=create_engine("sqlite:///./app.db")))
"""


def test_a_session_a_property_hands_out_keeps_the_route_and_says_it_may_be_shared(app, reported):
    root = app(
        """
        from sqlalchemy import text

        from db.shared import database


        @router.post("/counter")
        async def bump():
            database.session.execute(text("select 1"))
        """,
        {"db/shared.py": PROPERTY},
    )
    entry = reported(root, "bump", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert "`database.session`, which a property or method of the module-level `database`" in entry["reasons"][0]
    assert "which may be one Session the whole process shares (or one per thread" in entry["reasons"][0]


GIVEN = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

SessionLocal = sessionmaker(bind=create_engine("sqlite:///./app.db"))


class Counter:
    def __init__(self, db: Session):
        self.db = db

    def bump(self):
        self.db.execute(text("select 1"))
        self.db.commit()


counter = Counter({argument})
"""
BUMP = """
from db.shared import counter


@router.post("/counter")
async def bump():
    counter.bump()
"""


def test_a_module_level_instance_created_with_a_session_keeps_the_route_with_am126(app, reported):
    for argument in ("SessionLocal()", "db=SessionLocal()"):
        root = app(BUMP, {"db/shared.py": GIVEN.replace("{argument}", argument)})
        entry = reported(root, "bump", "phase1")
        assert entry["action"] == "keep" and "AM126" in entry["codes"], (argument, entry)
        assert "the Session the module-level instance `db.shared.counter` was created with" in " ".join(entry["reasons"])


def test_near_miss_an_instance_given_a_session_per_call_converts(app, reported):
    # `Counter(SessionLocal())` inside the route: a Session per request, not one for the process.
    route = """
        from db.shared import Counter, SessionLocal


        @router.post("/counter")
        async def bump():
            Counter(SessionLocal()).bump()
    """
    root = app(route, {"db/shared.py": GIVEN.replace("counter = Counter({argument})\n", "")})
    entry = reported(root, "bump", "phase1")
    assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry


# A Session in a class body is one object for the class and all its instances, made at import:
# shared whether the route reads it on the class, on an instance made per request, or through
# `self.db` in a method. A sessionmaker there opens a Session per call and is not.
CLASS_HELD = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

SessionLocal = sessionmaker(bind=create_engine("sqlite:///./app.db"))


class Counter:
    db = SessionLocal()
    maker = sessionmaker(bind=create_engine("sqlite:///./app.db"))

    def bump(self):
        self.db.execute(text("select 1"))

    def fresh(self):
        with self.maker() as s:
            s.execute(text("select 1"))
"""


@pytest.mark.parametrize(
    ("body", "holder"),
    [
        ('Counter.db.execute(text("select 1"))', "`Counter.db`, a class attribute of `Counter`"),
        ("Counter().bump()", "`self.db`, a class attribute of `Counter`"),
    ],
    ids=["on-the-class", "self-in-a-method"],
)
def test_a_session_in_a_class_body_keeps_the_route_with_am126(app, reported, body, holder):
    root = app(
        f"""
        from sqlalchemy import text

        from db.counter import Counter


        @router.post("/counter")
        async def bump():
            {body}
        """,
        {"db/counter.py": CLASS_HELD},
    )
    entry = reported(root, "bump", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM126"), entry
    assert holder in entry["reasons"][0], entry


def test_near_miss_a_sessionmaker_in_a_class_body_converts(app, reported):
    root = app(
        """
        from db.counter import Counter


        @router.post("/counter")
        async def bump():
            Counter().fresh()
        """,
        {"db/counter.py": CLASS_HELD},
    )
    entry = reported(root, "bump", "phase1")
    assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry


def test_a_session_given_to_a_module_level_instance_read_by_the_route_keeps_it(app, reported, findings):
    # `repo = Repo(SessionLocal())`, `self.db = db`: `repo.db` is that one Session, read in the route.
    given = """
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

SessionLocal = sessionmaker(bind=create_engine("sqlite:///./app.db"))


class Repo:
    def __init__(self, db):
        self.db = db


repo = Repo(SessionLocal())
"""
    root = app(
        """
        from sqlalchemy import text

        from db.given import repo


        @router.post("/counter")
        async def bump():
            repo.db.execute(text("select 1"))
        """,
        {"db/given.py": given},
    )
    entry = reported(root, "bump", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM126"), entry
    assert "`repo.db`, created once at import time" in entry["reasons"][0], entry
    assert [f["code"] for f in findings(root, "bump")] == ["AM301"]


@pytest.mark.parametrize("dependency", [
    "def shared_db():\n    return db",
    "async def shared_db():\n    yield db",
])
def test_a_dependency_handing_out_the_module_global_keeps_the_route_with_am126(app, reported, findings, dependency):
    # FastAPI hands every request the one Session the dependency returns: as `def` the route
    # would use it from several threadpool workers at once, exactly as if it named the global.
    root = app(
        """
        from fastapi import Depends
        from sqlalchemy import text
        from sqlalchemy.orm import Session

        from db.shared import db


        DEPENDENCY


        @router.post("/counter")
        async def bump(s: Session = Depends(shared_db)):
            s.execute(text("select 1"))
            s.commit()
        """.replace("DEPENDENCY", dependency.replace("\n", "\n        ")),
        {"db/shared.py": GLOBAL},
    )
    entry = reported(root, "bump", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert "`s`, which `shared_db()` hands out: " in entry["reasons"][0]
    assert "`db`, created once at import time (db/shared.py" in entry["reasons"][0]


def test_near_miss_a_dependency_opening_a_session_per_request_converts(app, reported):
    root = app(
        """
        from fastapi import Depends
        from sqlalchemy import text
        from sqlalchemy.orm import Session

        from db.shared import SessionLocal


        def own_db():
            session = SessionLocal()
            try:
                yield session
            finally:
                session.close()


        @router.post("/counter")
        async def bump(s: Session = Depends(own_db)):
            s.execute(text("select 1"))
            s.commit()
        """,
        {"db/shared.py": GLOBAL},
    )
    assert reported(root, "bump", "phase1")["action"] == "convert"


def test_a_route_resetting_the_module_global_under_a_global_statement_keeps_it(app, reported):
    # `global db` makes every `db` in the body the module's one Session, the rollback before the
    # reassignment too: as `def` a worker thread would close it under a request using it.
    root = app(
        """
        from db.shared import SessionLocal, db


        @router.post("/reset")
        async def reset():
            global db
            db.rollback()
            db.close()
            db = SessionLocal()
            return {"ok": True}
        """,
        {"db/shared.py": GLOBAL},
    )
    entry = reported(root, "reset", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert "(`db.rollback()`) on `db`, created once at import time (db/shared.py" in entry["reasons"][0], entry


UNIT_OF_WORK = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

DEFAULT_SESSION_FACTORY = sessionmaker(bind=create_engine("sqlite:///./app.db"))


class UnitOfWork:
    def __init__(self, session_factory=DEFAULT_SESSION_FACTORY):
        self.session_factory = session_factory

    def __enter__(self):
        self.session = self.session_factory()
        return self

    def __exit__(self, *args):
        self.session.rollback()
        self.session.close()

    def commit(self):
        self.session.commit()


class MessageBus:
    def __init__(self, uow: UnitOfWork):
        self.uow = uow


def count(uow: UnitOfWork):
    with uow:
        return uow.session.execute(text("select 1")).scalar_one()


shared = UnitOfWork()
bus = MessageBus(uow=UnitOfWork())
"""


@pytest.mark.parametrize("given", ["shared", "bus.uow"])
def test_a_unit_of_work_every_request_shares_keeps_the_route(app, reported, given):
    # `__enter__` opens a Session into `self.session` of the one instance: as def, concurrent
    # requests in the threadpool would overwrite and close each other's Session.
    root = app(
        f"""
        from db.uow import {given.partition(".")[0]}, count


        @router.get("/count")
        async def counted():
            return count({given})
        """,
        # Only the instance the route reaches: another module-level one must not stand in for it.
        {"db/uow.py": UNIT_OF_WORK.replace("shared = UnitOfWork()" if given == "bus.uow" else "bus = MessageBus", "#")},
    )
    entry = reported(root, "counted", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert (
        f"`self.session`, which `UnitOfWork.__enter__` opens on each use and keeps on the one module-level "
        f"instance `db.uow.{given}` every request gets"
    ) in entry["reasons"][0], entry["reasons"]


def test_near_miss_a_unit_of_work_per_request_converts_beside_a_module_level_one(app, reported):
    # The module-level instances in db/uow.py are not the one this route opens and closes.
    root = app(
        """
        from db.uow import UnitOfWork, count


        @router.get("/count")
        async def counted():
            return count(UnitOfWork())
        """,
        {"db/uow.py": UNIT_OF_WORK},
    )
    entry = reported(root, "counted", "phase1")
    assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry


def test_a_unit_of_work_a_lambda_dependency_hands_every_request_keeps_the_route(app, reported):
    root = app(
        """
        from fastapi import Depends

        from db.uow import UnitOfWork, count, shared


        @router.get("/count")
        async def counted(uow: UnitOfWork = Depends(lambda: shared)):
            return count(uow)
        """,
        {"db/uow.py": UNIT_OF_WORK},
    )
    entry = reported(root, "counted", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert "keeps on the one module-level instance `db.uow.shared` every request gets" in entry["reasons"][0]
    # the advice fits the holder: a unit of work per request, not a Session dependency
    assert "give each request its own UnitOfWork (a dependency returning `UnitOfWork()`" in entry["reasons"][0]



CACHED_DEPENDENCIES = """
from functools import cache, lru_cache

from db.uow import MessageBus, UnitOfWork


@lru_cache
def get_uow() -> UnitOfWork:
    return UnitOfWork()


@cache
def get_bus() -> MessageBus:
    return MessageBus(uow=UnitOfWork())


@lru_cache(maxsize=None)
def bus_for(tenant: str) -> MessageBus:
    return MessageBus(uow=UnitOfWork())


def fresh_uow() -> UnitOfWork:
    return UnitOfWork()
"""


@pytest.mark.parametrize(
    ("parameter", "use", "instance"),
    [
        ("uow: UnitOfWork = Depends(get_uow)", "count(uow)", "get_uow()"),
        ("bus: MessageBus = Depends(get_bus)", "count(bus.uow)", "get_bus().uow"),
        ("", "count(get_uow())", "get_uow()"),
        ("", "count(bus_for('acme').uow)", "bus_for().uow"),
    ],
)
def test_a_unit_of_work_a_cached_dependency_hands_every_request_keeps_the_route(
    app, reported, findings, parameter, use, instance
):
    # The cache keeps the first instance it built: every request's `with uow:` opens its Session
    # into `self.session` of that one object, which as def threadpool threads would overwrite and
    # close under each other.
    root = app(
        f"""
        from fastapi import Depends

        from db.deps import bus_for, get_bus, get_uow
        from db.uow import MessageBus, UnitOfWork, count


        @router.get("/count")
        async def counted({parameter}):
            return {use}
        """,
        {"db/uow.py": UNIT_OF_WORK.replace("shared = UnitOfWork()", "#").replace("bus = MessageBus", "#"),
         "db/deps.py": CACHED_DEPENDENCIES},
    )
    entry = reported(root, "counted", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert f"keeps on the one instance `db.deps.{instance}` every request gets" in entry["reasons"][0], entry
    assert "whose `@" in entry["reasons"][0] and "hands it to every caller" in entry["reasons"][0], entry
    assert "AM301" in {f["code"] for f in findings(root, "counted")}


def test_near_miss_a_unit_of_work_an_uncached_dependency_builds_per_request_converts(app, reported):
    root = app(
        """
        from fastapi import Depends

        from db.deps import fresh_uow, get_uow
        from db.uow import UnitOfWork, count


        @router.get("/count")
        async def counted(uow: UnitOfWork = Depends(fresh_uow)):
            return count(uow)
        """,
        {"db/uow.py": UNIT_OF_WORK.replace("shared = UnitOfWork()", "#").replace("bus = MessageBus", "#"),
         "db/deps.py": CACHED_DEPENDENCIES},
    )
    entry = reported(root, "counted", "phase1")
    assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry

# The one Session handed to a helper rather than called on: the route did "no synchronous Session
# work", and `check` passed it while `crud.count` blocked the loop on the process's Session.
HELPER = """
from sqlalchemy import text


def count(db):
    return db.execute(text("select 1")).scalar_one()
"""


def test_a_module_global_session_handed_to_a_helper_keeps_the_route_and_check_flags_it(app, reported, findings):
    root = app(
        """
        from db.crud import count
        from db.shared import db


        @router.get("/counter")
        async def read():
            return count(db)
        """,
        {"db/shared.py": GLOBAL, "db/crud.py": HELPER},
    )
    entry = reported(root, "read", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert "(`count(...)`) on `db`, created once at import time (db/shared.py" in entry["reasons"][0]
    assert [f["code"] for f in findings(root, "read")] == ["AM301"]


# A router factory's Session, read by the routes it defines: one for every request they serve.
# They did "no synchronous Session work" (check passed them); as def they would share it across threads.
FACTORY = """
from sqlalchemy import text

from db.crud import count
from db.engine import database_sessionmaker


def make_routes(prefix: str) -> APIRouter:
    r = APIRouter(prefix=prefix)
    {opened}

    @r.get("/direct")
    async def direct():
        return db.execute(text("select 1")).scalar_one()

    @r.get("/handed")
    async def handed():
        return count(db)

    return r
"""


@pytest.mark.parametrize("route", ["direct", "handed"])
def test_a_router_factorys_session_keeps_its_routes_with_am126(app, reported, findings, route):
    root = app(FACTORY.format(opened="db = database_sessionmaker()"), {"db/crud.py": HELPER})
    entry = reported(root, f"make_routes.<locals>.{route}", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert "on `db`, the Session `make_routes` (api/items.py:" in entry["reasons"][0], entry["reasons"]
    assert [f["code"] for f in findings(root, f"make_routes.<locals>.{route}")] == ["AM301"]


def test_near_miss_a_session_each_route_of_the_factory_opens_converts(app, reported):
    source = FACTORY.format(opened="pass").replace(
        "        return count(db)", "        with database_sessionmaker() as db:\n            return count(db)"
    )
    root = app(source, {"db/crud.py": HELPER})
    assert reported(root, "make_routes.<locals>.handed", "phase1")["action"] == "convert"


# A router class building its routes in methods (fastapi-crudrouter's shape): the routes read the
# Session the instance opened through the method's `self`, one for every request they serve.
ROUTER_CLASS = """
from sqlalchemy import text

from db.crud import count
from db.engine import database_sessionmaker


class CountRouter(APIRouter):
    def __init__(self):
        super().__init__()
        self.db = {opened}
        self.add_api_route("/direct", self._direct(), methods=["GET"])
        self.add_api_route("/handed", self._handed(), methods=["GET"])

    def _direct(self):
        async def route():
            return self.db.execute(text("select 1")).scalar_one()
        return route

    def _handed(self):
        async def route():
            return count(self.db)
        return route


router.include_router(CountRouter())
"""


@pytest.mark.parametrize("method", ["_direct", "_handed"])
def test_a_session_a_router_class_opens_keeps_the_routes_its_methods_build(app, reported, findings, method):
    root = app(ROUTER_CLASS.format(opened="database_sessionmaker()"), {"db/crud.py": HELPER})
    entry = reported(root, f"CountRouter.{method}.<locals>.route", "phase1")
    assert entry["action"] == "keep" and entry["codes"][0] == "AM126", entry
    assert f"on `self.db`, the Session `CountRouter.{method}` (api/items.py:" in entry["reasons"][0], entry
    assert [f["code"] for f in findings(root, f"CountRouter.{method}.<locals>.route")] == ["AM301"]


def test_near_miss_a_router_class_holding_a_sessionmaker_converts(app, reported):
    source = ROUTER_CLASS.format(opened="database_sessionmaker").replace(
        "            return count(self.db)", "            with self.db() as db:\n                return count(db)"
    )
    root = app(source, {"db/crud.py": HELPER})
    assert reported(root, "CountRouter._handed.<locals>.route", "phase1")["action"] == "convert"
