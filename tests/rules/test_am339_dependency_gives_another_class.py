"""AM339 dependency-gives-another-class: an `async def` route declares a parameter as an async unit
of work (or hands it to a class taking one) while its dependency still builds the synchronous one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

UOW = """
from typing import Annotated, Protocol

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker


class ItemRepo:
    def __init__(self, session: Session):
        self.session = session

    def names(self):
        return list(self.session.execute("select 1").scalars())


class ItemRepoAsync:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def names(self):
        return list((await self.session.execute("select 1")).scalars())


class UnitOfWork:
    def __enter__(self):
        self.session = database_sessionmaker()
        self.items = ItemRepo(self.session)
        return self

    def __exit__(self, *args):
        self.session.close()


class UnitOfWorkAsync:
    async def __aenter__(self):
        self.items = ItemRepoAsync(None)
        return self

    async def __aexit__(self, *args):
        pass


class Names(Protocol):
    def names(self): ...


class Summary:
    def names(self):
        return []


class Clock:
    def now(self):
        return 0


class ClockAsync:
    async def now(self):
        return 0


class ItemServiceAsync:
    def __init__(self, uow: UnitOfWorkAsync):
        self.uow = uow

    async def names(self):
        return await self.uow.items.names()


def get_uow():
    with UnitOfWork() as uow:
        yield uow


async def get_uow_async():
    async with UnitOfWorkAsync() as uow:
        yield uow


def get_clock():
    return Clock()


UoW = Annotated[UnitOfWork, Depends(get_uow)]
"""
ROUTES = """
from typing import Annotated

from fastapi import Depends

from uow import (
    ClockAsync, ItemServiceAsync, Names, Summary, UnitOfWork, UnitOfWorkAsync, UoW, get_clock, get_uow, get_uow_async,
)


@router.get("/annotated")
async def annotated(uow: Annotated[UnitOfWorkAsync, Depends(get_uow)]):
    return {"names": await ItemServiceAsync(uow).names()}


@router.get("/handed")
async def handed(uow: UoW):
    return {"names": await ItemServiceAsync(uow).names()}


@router.get("/twin")
async def twin(uow: Annotated[UnitOfWorkAsync, Depends(get_uow_async)]):
    return {"names": await ItemServiceAsync(uow).names()}


@router.get("/protocol")
async def protocol(uow: Annotated[Names, Depends(get_uow)]):
    return {"ok": True}


@router.get("/plain-class")
async def plain_class(uow: Annotated[Summary, Depends(get_uow)]):
    return {"ok": True}


@router.get("/no-session")
async def no_session(clock: Annotated[ClockAsync, Depends(get_clock)]):
    return {"now": await clock.now()}


@router.get("/plain")
def plain(uow: Annotated[UnitOfWorkAsync, Depends(get_uow)]):
    return {"ok": True}
"""


@pytest.mark.parametrize(
    ("function", "said"),
    [
        ("annotated", "`uow` is annotated UnitOfWorkAsync, but its dependency `get_uow` (uow.py:"),
        ("handed", "`uow` is handed to `ItemServiceAsync.__init__` at line 24, whose parameter `uow` is a "
                   "UnitOfWorkAsync, but its dependency `get_uow` (uow.py:"),
    ],
)
def test_a_parameter_its_dependency_fills_with_a_synchronous_class_is_am339(app, findings, function, said):
    found = findings(app(ROUTES, {"uow.py": UOW}), function)
    assert [f["code"] for f in found] == ["AM339"], found
    assert said in found[0]["message"], found[0]["message"]
    assert "yields a UnitOfWork, whose Session work is synchronous" in found[0]["message"], found[0]["message"]


@pytest.mark.parametrize("function", ["twin", "protocol", "plain_class", "no_session", "plain"])
def test_near_miss_the_declared_class_given_a_protocol_no_session_or_a_def_route(app, findings, function):
    # the twin gives what the route declares; a Protocol is implemented by shape; a class with no
    # `async def` standing for the given one's methods (a schema) is not awaited on it; a class
    # without Session work blocks nothing; a `def` route runs in the threadpool
    assert [f for f in findings(app(ROUTES, {"uow.py": UOW}), function) if f["code"] == "AM339"] == []


PREMISE = """
import asyncio
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
Maker = sessionmaker(engine)


class Repo:
    def __init__(self, session: Session):
        self.session = session

    def one(self):
        return self.session.execute(text("select 1")).scalar()


class RepoAsync:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def one(self):
        return (await self.session.execute(text("select 1"))).scalar()


class UnitOfWork:
    def __enter__(self):
        self.session = Maker()
        self.items = Repo(self.session)
        return self

    def __exit__(self, *args):
        self.session.close()


class UnitOfWorkAsync:
    pass


def get_uow():
    with UnitOfWork() as uow:
        yield uow


app = FastAPI()


@app.get("/")
async def read(uow: Annotated[UnitOfWorkAsync, Depends(get_uow)]):
    return {"one": await uow.items.one()}


try:
    TestClient(app).get("/")
    print(json.dumps("no error"))
except TypeError as error:
    print(json.dumps(str(error)))
"""


def test_the_premise_the_route_gets_the_synchronous_class_and_awaiting_its_result_raises():
    script = "import json\n" + textwrap.dedent(PREMISE)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.strip(), done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == "object int can't be used in 'await' expression", done
