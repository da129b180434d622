"""AM324: a `def` handler, run in the threadpool, works on one Session the whole process shares."""

import pytest

UNIT_OF_WORK = """
from functools import lru_cache

from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

DEFAULT_SESSION_FACTORY = sessionmaker(bind=create_engine("sqlite://"))


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

    def handle(self, sku: str) -> None:
        allocate(sku, self.uow)


def allocate(sku: str, uow: UnitOfWork) -> None:
    with uow:
        uow.session.execute(text("insert into lines (sku) values (:sku)"), {"sku": sku})
        uow.commit()


@lru_cache
def cached_uow() -> UnitOfWork:
    return UnitOfWork()


def fresh_uow() -> UnitOfWork:
    return UnitOfWork()


bus = MessageBus(uow=UnitOfWork())
shared = UnitOfWork()
db = DEFAULT_SESSION_FACTORY()
"""


@pytest.mark.parametrize(
    ("body", "holder"),
    [
        ("def allocated(sku: str):\n    bus.handle(sku)", "module-level instance `db.uow.bus.uow` every request gets"),
        (
            "def allocated(sku: str, uow: UnitOfWork = Depends(cached_uow)):\n    allocate(sku, uow)",
            "instance `db.uow.cached_uow()` every request gets, whose `@lru_cache`",
        ),
        ("def allocated(sku: str):\n    db.execute(text('select 1'))", "`db`, created once at import time (db/uow.py"),
    ],
)
def test_a_def_route_on_a_process_wide_session_is_reported(app, findings, body, holder):
    # As def, the threadpool runs concurrent requests of the route on several threads, all on
    # the one Session (or the one unit of work whose `self.session` each `with` replaces).
    root = app(
        f"""
        from fastapi import Depends
        from sqlalchemy import text

        from db.uow import UnitOfWork, allocate, bus, cached_uow, db


        @router.post("/allocate")
        {body.replace(chr(10), chr(10) + "        ")}
        """,
        {"db/uow.py": UNIT_OF_WORK},
    )
    found = [f for f in findings(root, "allocated") if f["code"] == "AM324"]
    assert len(found) == 1, findings(root, "allocated")
    assert found[0]["message"].startswith("def route runs in the threadpool, several requests at once"), found
    assert holder in found[0]["message"], found


def test_near_miss_a_def_route_with_a_unit_of_work_per_request_is_clean(app, findings):
    root = app(
        """
        from fastapi import Depends

        from db.uow import UnitOfWork, allocate, fresh_uow


        @router.post("/allocate")
        def allocated(sku: str, uow: UnitOfWork = Depends(fresh_uow)):
            allocate(sku, uow)
        """,
        {"db/uow.py": UNIT_OF_WORK},
    )
    assert findings(root, "allocated") == []


def test_a_pragma_silences_it(app, findings):
    root = app(
        """
        from db.uow import bus


        @router.post("/allocate")
        def allocated(sku: str):  # async-migrate: ignore[AM324] one worker thread in this deployment
            bus.handle(sku)
        """,
        {"db/uow.py": UNIT_OF_WORK},
    )
    assert findings(root, "allocated") == []


@pytest.mark.parametrize(
    ("call", "holder"),
    [
        ("await run_in_threadpool(bus.handle, sku)", "module-level instance `db.uow.bus.uow` every request gets"),
        ("await asyncio.to_thread(allocate, sku, shared)", "module-level instance `db.uow.shared` every request gets"),
    ],
)
def test_an_async_route_offloading_work_on_a_process_wide_session_is_reported(app, findings, call, holder):
    # On the loop the requests would take turns on the one unit of work; offloaded, each runs on
    # a worker thread of its own, at once.
    root = app(
        f"""
        import asyncio

        from starlette.concurrency import run_in_threadpool

        from db.uow import allocate, bus, shared


        @router.post("/allocate")
        async def allocated(sku: str):
            {call}
        """,
        {"db/uow.py": UNIT_OF_WORK},
    )
    found = findings(root, "allocated")
    assert [f["code"] for f in found] == ["AM324"], found
    assert found[0]["message"].startswith("async def route hands Session work to a worker thread"), found
    assert holder in found[0]["message"], found


@pytest.mark.parametrize(
    ("call", "codes"),
    [
        ("await run_in_threadpool(allocate, sku, UnitOfWork())", []),  # its own unit of work
        ("bus.handle(sku)", ["AM301"]),  # on the loop: blocking, but one request at a time
    ],
)
def test_near_miss_offloading_a_unit_of_work_per_request_or_none_is_no_am324(app, findings, call, codes):
    root = app(
        f"""
        from starlette.concurrency import run_in_threadpool

        from db.uow import UnitOfWork, allocate, bus


        @router.post("/allocate")
        async def allocated(sku: str):
            {call}
        """,
        {"db/uow.py": UNIT_OF_WORK},
    )
    assert [f["code"] for f in findings(root, "allocated")] == codes


TABLE_BUS = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

DEFAULT_SESSION_FACTORY = sessionmaker(bind=create_engine("sqlite://"))


class UnitOfWork:
    def __init__(self, session_factory=DEFAULT_SESSION_FACTORY):
        self.session_factory = session_factory

    def __enter__(self):
        self.session = self.session_factory()
        return self

    def __exit__(self, *args):
        self.session.close()


def allocate(sku, uow):
    with uow:
        uow.session.execute(text("select 1"))


class MessageBus:
    def __init__(self, uow: UnitOfWork, handlers: dict):
        self.uow = uow
        self.handlers = handlers

    def handle(self, message):
        self.handlers[type(message)](message, self.uow)


def bootstrap(uow=None):
    return MessageBus(uow=uow or UnitOfWork(), handlers={str: allocate})
"""


@pytest.mark.parametrize(("bus", "codes"), [("bus", ["AM324"]), ("bootstrap()", [])])
def test_a_def_route_on_a_process_wide_bus_dispatching_through_a_table_may_share_its_session(
    app, findings, bus, codes
):
    # The handler table is unreadable, so no Session use is seen; but every request's handlers get
    # the one unit of work the module-level bus holds, whose `__enter__` reopens `self.session`.
    # A bus built per request (near miss) gives each its own.
    root = app(
        f"""
        from db.bus import bootstrap

        bus = bootstrap()


        @router.post("/allocate")
        def allocated(sku: str):
            {bus}.handle(sku)
        """,
        {"db/bus.py": TABLE_BUS},
    )
    found = findings(root, "allocated")
    assert [f["code"] for f in found] == codes, found
    if codes:
        assert "works on `api.items.bus.uow`, the one UnitOfWork every request gets" in found[0]["message"], found
        assert "what it runs on it the analysis cannot read" in found[0]["message"], found


@pytest.mark.parametrize(("bus", "codes"), [("bus", ["AM324"]), ("bootstrap()", [])])
def test_an_async_route_offloading_a_process_wide_bus_dispatching_through_a_table_is_reported(
    app, findings, bus, codes
):
    # What the table runs is unread, so the offloaded call is no use seen; but each request's
    # worker thread gets the one unit of work the module-level bus holds, whose `__enter__`
    # reopens `self.session` under the others. A bus built per request (near miss) is its own.
    root = app(
        f"""
        from starlette.concurrency import run_in_threadpool

        from db.bus import bootstrap

        bus = bootstrap()


        @router.post("/allocate")
        async def allocated(sku: str):
            await run_in_threadpool({bus}.handle, sku)
        """,
        {"db/bus.py": TABLE_BUS},
    )
    found = findings(root, "allocated")
    assert [f["code"] for f in found] == codes, found
    if codes:
        assert found[0]["message"].startswith("async def route hands Session work to a worker thread"), found
        assert "uses `api.items.bus.uow`, the one UnitOfWork every request gets" in found[0]["message"], found


@pytest.mark.parametrize(("bus", "offload"), [("bus", False), ("bootstrap()", True)])
def test_an_async_route_on_a_process_wide_bus_is_not_told_to_offload_it(app, findings, bus, offload):
    # AM304's usual way out, `run_in_threadpool`, would turn the route into the AM324 above: the
    # advice for a module-level bus is a unit of work per request. A bus built per request (near
    # miss) may be offloaded.
    root = app(
        f"""
        from db.bus import bootstrap

        bus = bootstrap()


        @router.post("/allocate")
        async def allocated(sku: str):
            {bus}.handle(sku)
        """,
        {"db/bus.py": TABLE_BUS},
    )
    found = findings(root, "allocated")
    assert [f["code"] for f in found] == ["AM304"], found
    assert ("run that call with `run_in_threadpool`" in found[0]["message"]) is offload, found
    if not offload:
        assert "give each request its own UnitOfWork instead of `api.items.bus.uow`" in found[0]["message"], found


# A service a dependency-injector container builds on a Session (the trial's shape, after phase
# one had converted its routes): a `providers.Singleton` Session, or a `Resource`, is one for the
# whole process; a `providers.Factory` one is the request's own.
DI_SERVICE = """
from sqlalchemy import text
from sqlalchemy.orm import Session


class LineService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, sku: str) -> None:
        self.session.execute(text("insert into lines (sku) values (:sku)"), {"sku": sku})
        self.session.commit()
"""

DI_CONTAINER = """
from dependency_injector import containers, providers

from db.engine import database_sessionmaker, get_db_session
from db.lines import LineService


class Container(containers.DeclarativeContainer):
    session_factory = providers.{session}
    lines = providers.Factory(LineService, session=session_factory)
"""


@pytest.mark.parametrize(
    ("session", "codes"),
    [
        ("Singleton(database_sessionmaker)", ["AM324"]),
        ("ThreadSafeSingleton(database_sessionmaker)", ["AM324"]),
        ("Resource(get_db_session)", ["AM324"]),
        ("Object(database_sessionmaker())", ["AM324"]),  # the one Session the class body opened
        ("Factory(database_sessionmaker)", []),  # a Session per injection
        ("Dependency()", []),  # given at run time: phase one keeps such routes, check says no more
        ("ThreadLocalSingleton(database_sessionmaker)", []),  # one per worker thread
    ],
)
def test_a_def_route_on_a_session_a_container_keeps_for_every_request_is_reported(app, findings, session, codes):
    # Before, `check` said nothing (exit 0) on the converted routes, while 164 of 200 concurrent
    # requests answered 500 on the one Session.
    root = app(
        """
        from dependency_injector.wiring import Provide, inject
        from fastapi import Depends

        from db.container import Container
        from db.lines import LineService


        @router.post("/allocate")
        @inject
        def allocated(sku: str, svc: LineService = Depends(Provide[Container.lines])):
            svc.add(sku)
        """,
        {"db/lines.py": DI_SERVICE, "db/container.py": DI_CONTAINER.format(session=session)},
    )
    found = findings(root, "allocated")
    assert [f["code"] for f in found] == codes, found
    if codes:
        message = found[0]["message"]
        assert message.startswith("def route runs in the threadpool, several requests at once, and does Session work")
        assert "(`svc.add()`) on `svc`, what `Container.lines = providers.Factory(LineService, ...)`" in message
        assert f"`Container.session_factory = providers.{session}` (db/container.py:8)" in message, message
