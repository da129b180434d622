"""Objects handed by hand to unannotated parameters: a unit of work, a service, a bus handler.

A layered service passes its unit of work down without annotations (`def orders_of(uow, ...)`,
`OrderService(self.uow())` in a container, `handler(event, uow)` out of `HANDLERS[type(event)]`).
The callee holds what its callers pass, so the Session work it does through the object is
found, never reported as "no Session work".
"""

from __future__ import annotations

from pathlib import Path

import pytest

UOW = """
from db.engine import database_sessionmaker
from repositories import UserRepository


class UnitOfWork:
    def __enter__(self):
        self.session = database_sessionmaker()
        self.users = UserRepository(self.session)
        return self

    def __exit__(self, *exc):
        self.session.commit()
        self.session.close()
"""
REPOSITORIES = """
from sqlalchemy import text


class UserRepository:
    def __init__(self, session):
        self.session = session

    def count(self):
        return self.session.scalar(text("select 1"))


class Clock:
    def now(self):
        return 1
"""
CONTAINER = """
from services import OrderService
from uow import UnitOfWork


class Container:
    def uow(self) -> UnitOfWork:
        return UnitOfWork()

    @property
    def order_service(self) -> OrderService:
        return OrderService(self.uow())


container = Container()


def get_uow():
    return container.uow()


def get_order_service() -> OrderService:
    return container.order_service
"""
SERVICES = """
from repositories import Clock


def count_users(uow):
    with uow:
        return uow.users.count()


def tick(clock):
    return clock.now()


def now():
    return tick(Clock())


class OrderService:
    def __init__(self, uow):
        self.uow = uow

    def users(self):
        with self.uow:
            return self.uow.users.count()


def welcome(event, uow):
    uow.users.count()


HANDLERS = {str: [welcome]}


def handle(event, uow):
    for handler in HANDLERS[type(event)]:
        handler(event, uow)
"""
ROUTES = """
from typing import Annotated

from fastapi import APIRouter, Depends

from container import get_order_service, get_uow
from services import OrderService, count_users, handle, now
from uow import UnitOfWork

router = APIRouter()
UowDep = Annotated[UnitOfWork, Depends(get_uow)]


@router.get("/count")
async def by_helper(uow: UowDep):
    return count_users(uow)


@router.get("/built")
async def by_built():
    return count_users(UnitOfWork())


@router.get("/service")
async def by_service(service: Annotated[OrderService, Depends(get_order_service)]):
    return service.users()


@router.post("/event")
async def by_bus(uow: UowDep):
    handle("hello", uow)
    return {}


@router.get("/clock")
async def clock_only():
    return now()
"""


@pytest.fixture
def layered(project, app_files) -> Path:  # type: ignore[no-untyped-def]
    return project({
        **app_files, "api/__init__.py": "", "api/routes.py": ROUTES, "uow.py": UOW,
        "repositories.py": REPOSITORIES, "container.py": CONTAINER, "services.py": SERVICES,
    })


def _handler(document: dict, function: str) -> dict:
    return next(h for h in document["handlers"] if h["function"] == function)


@pytest.mark.parametrize(("function", "chain"), [
    ("by_helper", "count_users"),  # an unannotated function parameter
    ("by_built", "count_users"),  # given a unit of work built right in the call
    ("by_service", "OrderService.users"),  # `self.uow` kept by an `__init__` a container property calls
    ("by_bus", "UserRepository.count"),  # a handler out of `HANDLERS[type(event)]`, called in a loop
])
def test_session_work_through_a_handed_object_converts(cli, layered, function, chain):
    found = _handler(cli.json("phase1", layered), function)
    assert found["action"] == "convert", found
    assert any(chain in reason for reason in found["reasons"]), found["reasons"]


def test_check_reports_each_route_working_through_a_handed_object(cli, layered):
    result = cli("check", layered, "--no-cache")
    assert result.exit_code == 1
    for function in ("by_helper", "by_built", "by_service", "by_bus"):
        assert f"AM301 blocking-session {function}:" in result.output, result.output
    assert "clock_only" not in result.output


SCOPED = """
import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from core.dependencies import session_dependency

router = APIRouter()


class Scoped:
    def __init__(self, session: Session):
        self.session = session
        self.pending = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.session.commit()


class Timer:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def get_scoped(session: session_dependency) -> Scoped:
    return Scoped(session)


@router.post("/scoped")
async def scoped(uow: Annotated[Scoped, Depends(get_scoped)]):
    with uow:
        uow.pending.append(1)
    return {}


@router.post("/scoped-async")
async def scoped_as(uow: Annotated[Scoped, Depends(get_scoped)]):
    with uow as entered:
        entered.pending.append(1)
    return {}


@router.post("/scoped-mixed")
async def scoped_mixed(uow: Annotated[Scoped, Depends(get_scoped)]):
    await asyncio.sleep(0)
    with uow:
        uow.pending.append(1)
    return {}


@router.get("/timed")
async def timed():
    timer = Timer()
    with timer:
        return {}
"""


@pytest.mark.parametrize("function", ["scoped", "scoped_as"])
def test_a_with_statement_on_a_built_object_runs_its_exit(cli, project, app_files, function):
    # `with uow:` on an object the dependency built: its `__exit__` commits the Session
    root = project({**app_files, "api/__init__.py": "", "api/scoped.py": SCOPED})
    document = cli.json("phase1", root)
    found = _handler(document, function)
    assert found["action"] == "convert", found
    assert any("Scoped.__exit__" in reason for reason in found["reasons"]), found["reasons"]
    assert _handler(document, "timed")["reasons"] == ["does no synchronous Session work"]
    result = cli("check", root, "--no-cache")
    assert f"AM301 blocking-session {function}:" in result.output, result.output


def test_a_mixed_route_entering_a_built_object_is_reported_with_a_fix(cli, project, app_files):
    # The `with` statement's own `__exit__` call has no expression phase one could offload.
    root = project({**app_files, "api/__init__.py": "", "api/scoped.py": SCOPED})
    result = cli("check", root, "--no-cache")
    assert result.exit_code == 1, result.output
    line = next(x for x in result.output.splitlines() if "scoped_mixed:" in x)
    assert "AM301" in line and "Scoped.__exit__" in line and "offload" in line, line
    document = cli.json("phase1", root, "--offload-mixed", "--apply")
    assert _handler(document, "scoped_mixed")["action"] == "keep"
    assert "run_in_threadpool" not in (root / "api/scoped.py").read_text()


def test_near_miss_an_object_without_session_work_stays_clean(cli, layered):
    found = _handler(cli.json("phase1", layered), "clock_only")
    assert found["action"] == "keep"
    assert found["reasons"] == ["does no synchronous Session work"]


# A sessionmaker, or a project `@contextmanager` opening a Session, handed to an unannotated
# parameter the callee enters (`with maker() as s`): the ActiveRecord model methods of a service
# layer (`Model.create(self.session_maker)` where `self.session_maker = db_context`). Before, the
# parameter held nothing: a statement on `s` (not named like a Session) did "no Session work".
OPENERS = """
from contextlib import contextmanager

from fastapi import APIRouter
from sqlalchemy import text

from db.engine import database_sessionmaker

router = APIRouter()


@contextmanager
def db_context():
    db = database_sessionmaker()
    try:
        yield db
    finally:
        db.close()


def ping_with(maker):
    with maker() as s:
        return s.execute(text("select 1")).scalar()


def ping_keyword(*, opener):
    with opener() as s:
        return s.execute(text("select 1")).scalar()


class Record:
    def save(self, db_session):
        with db_session() as s:
            s.add(self)
            s.commit()


class Manager:
    def __init__(self):
        self.session_maker = db_context

    def create(self):
        Record().save(self.session_maker)


def tick(clock):
    with clock() as c:
        return c.execute(text("select 1"))


class Clock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def execute(self, what):
        return what


@router.get("/maker")
async def by_maker():
    return ping_with(database_sessionmaker)


@router.get("/opener")
async def by_opener():
    return ping_keyword(opener=db_context)


@router.post("/manager")
async def by_manager():
    Manager().create()


@router.get("/clock")
async def by_clock():
    return tick(Clock)
"""


@pytest.mark.parametrize(("function", "chain"), [
    ("by_maker", "ping_with -> with maker() as s -> s.execute()"),
    ("by_opener", "ping_keyword -> with opener() as s -> s.execute()"),
    ("by_manager", "Manager.create -> Record.save -> with db_session() as s"),
])
def test_a_session_opener_handed_to_a_parameter_opens_the_session_the_callee_enters(
    cli, project, app_files, function, chain
):
    root = project({**app_files, "api/__init__.py": "", "api/openers.py": OPENERS})
    found = _handler(cli.json("phase1", root), function)
    assert found["action"] == "convert", found
    assert any(chain in reason for reason in found["reasons"]), found["reasons"]
    # a class handed on and entered is no Session opener
    assert _handler(cli.json("phase1", root), "by_clock")["reasons"] == ["does no synchronous Session work"]
