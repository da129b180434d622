"""A message bus the application's state keeps (`app.state.bus = bootstrap()` in the lifespan),
its handlers in a table the bus holds beside a unit of work opening its Session in `__enter__`.

`request.app.state.bus.handle(cmd)` (or `bus = request.app.state.bus` first, or a dependency
returning it) runs handlers the analysis cannot read: the route is unverified (AM125, `check`
AM304), never "no synchronous Session work". The unit of work the bus keeps is one for every request: phase one does not hand
its Session work to the threadpool (`--offload-mixed`), where concurrent requests would share it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

UOW = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

SessionLocal = sessionmaker(create_engine("sqlite://"))


class UnitOfWork:
    def __enter__(self):
        self.session = SessionLocal()
        return self

    def __exit__(self, *args):
        self.session.rollback()
        self.session.close()

    def commit(self):
        self.session.commit()


def count(uow: UnitOfWork):
    with uow:
        return uow.session.execute(text("select 1")).scalar_one()


def record(event, uow):
    with uow:
        uow.session.execute(text("select 1"))
        uow.commit()


def finish(uow):
    with uow:
        uow.commit()


class MessageBus:
    def __init__(self, uow, handlers):
        self.uow = uow
        self.handlers = handlers

    def handle(self, message):
        for handler in self.handlers[type(message)]:
            handler(message)


class Settings:
    def title(self):
        return "shop"


def bootstrap():
    uow = UnitOfWork()
    return MessageBus(uow, {str: [lambda message: record(message, uow)]})
"""
MAIN = """
import asyncio
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request

from sqlalchemy import text

from bus import SessionLocal, Settings, UnitOfWork, bootstrap, count, finish


def make_greeting():
    return "hi"


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.bus = bootstrap()
    app.state.settings = Settings()
    app.state.uow_factory = UnitOfWork
    app.state.session_factory = SessionLocal
    app.state.greeting = make_greeting
    yield


app = FastAPI(lifespan=lifespan)


@app.post("/direct")
async def direct(request: Request):
    request.app.state.bus.handle("created")
    return {}


@app.post("/local")
async def local(request: Request):
    bus = request.app.state.bus
    bus.handle("created")
    return {}


@app.get("/count")
async def counted(request: Request):
    bus = request.app.state.bus
    n = count(bus.uow)
    await asyncio.sleep(0)
    return {"n": n}


def get_bus(request: Request):
    return request.app.state.bus


@app.post("/dependency")
async def dependency(bus=Depends(get_bus)):
    bus.handle("created")
    return {}


@app.get("/dependency-count")
async def dependency_counted(bus=Depends(get_bus)):
    n = count(bus.uow)
    await asyncio.sleep(0)
    return {"n": n}


@app.post("/factory")
async def factory(request: Request):
    uow = request.app.state.uow_factory()
    finish(uow)
    return {}


@app.get("/opened")
async def opened(request: Request):
    s = request.app.state.session_factory()
    try:
        return {"n": s.execute(text("select 1")).scalar()}
    finally:
        s.close()


@app.get("/entered")
async def entered(request: Request):
    with request.app.state.session_factory() as s:
        return {"n": s.execute(text("select 1")).scalar()}


@app.get("/kept-first")
async def kept_first(request: Request):
    make = request.app.state.session_factory
    s = make()
    try:
        return {"n": s.execute(text("select 1")).scalar()}
    finally:
        s.close()


@app.get("/greeting")
async def greeting(request: Request):
    return {"text": request.app.state.greeting()}


@app.get("/title")
async def title(request: Request):
    return {"title": request.app.state.settings.title()}
"""


@pytest.fixture
def root(project) -> Path:  # type: ignore[no-untyped-def]
    return project({"main.py": MAIN, "bus.py": UOW})


def _handler(document: dict, function: str) -> dict:
    return next(h for h in document["handlers"] if h["function"] == function)


@pytest.mark.parametrize("function", ["direct", "local", "dependency"])
def test_a_bus_the_application_state_keeps_is_unverified_and_check_reports_it(cli, root, function):
    found = _handler(cli.json("phase1", root), function)
    assert found["action"] == "keep", found
    assert "AM125" in found["codes"], found["reasons"]
    assert any("MessageBus.handle" in r and "application's state keeps" in r for r in found["reasons"])
    result = cli("check", root, "--no-cache")
    assert f"AM304 unverified-session {function}:" in result.output, result.output


def test_the_unit_of_work_the_bus_keeps_is_not_offloaded(cli, root):
    document = cli.json("phase1", root, "--offload-mixed", "--apply")
    for function in ("counted", "dependency_counted"):
        found = _handler(document, function)
        assert found["action"] == "keep", found
        assert any("`app.state.bus.uow`" in r and "one Session the whole process shares" in r for r in found["reasons"])
    assert "run_in_threadpool(count" not in (root / "main.py").read_text()


def test_near_miss_an_object_the_state_keeps_without_session_work_stays_clean(cli, root):
    found = _handler(cli.json("phase1", root), "title")
    assert found["reasons"] == ["does no synchronous Session work"], found
    assert "title:" not in cli("check", root, "--no-cache").output


def test_a_unit_of_work_class_the_state_keeps_builds_one_per_request_and_converts(cli, root):
    # `app.state.uow_factory = UnitOfWork`: each call builds a new unit of work, so the route's
    # Session work is its own; it read "no synchronous Session work" and check passed it.
    assert "AM301 blocking-session factory:" in cli("check", root, "--no-cache").output
    found = _handler(cli.json("phase1", root), "factory")
    assert found["action"] == "convert", found
    assert any("bus.finish" in reason and "UnitOfWork" in reason for reason in found["reasons"]), found["reasons"]


@pytest.mark.parametrize("function", ["opened", "entered", "kept_first"])
def test_a_session_opened_from_a_sessionmaker_the_state_keeps_blocks_and_converts(cli, root, function):
    # `app.state.session_factory = SessionLocal`: calling it opens a synchronous Session on the
    # event loop; it read "no synchronous Session work" and check passed the route.
    assert f"AM301 blocking-session {function}:" in cli("check", root, "--no-cache").output
    found = _handler(cli.json("phase1", root), function)
    assert (found["action"], found["after"]) == ("convert", "def"), found


def test_near_miss_a_plain_function_the_state_keeps_stays_clean(cli, root):
    found = _handler(cli.json("phase1", root), "greeting")
    assert found["reasons"] == ["does no synchronous Session work"], found
    assert "greeting:" not in cli("check", root, "--no-cache").output
