"""AM304 unverified-session for a unit of work, service or repository holding a synchronous
Session that reaches code the call graph cannot follow: handed to a callable out of a table
(`self._factories[name](uow)`, `FACTORIES[kind](uow)`), or a method picked at run time on it
(`getattr(service, what)()`), or called on what a table's callable built from it
(`FACTORIES["catalog"](uow).product(1)`). Each ran a SELECT on the event loop while scan said
"does no synchronous Session work" (AM105) and `check` passed the route (found by a new-user
trial). Near misses: the same shapes on a unit of work holding an AsyncSession, on an object
holding no Session, and a call the graph resolves."""

from __future__ import annotations

import pytest

DB = """
from sqlalchemy import create_engine, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

SessionLocal = sessionmaker(create_engine("sqlite://"))
AsyncSessionLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]


class UnitOfWork:
    def __init__(self, session_factory=SessionLocal) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> "UnitOfWork":
        self.session = self.session_factory()
        return self

    def __exit__(self, *exc) -> None:
        self.session.close()


class AsyncUnitOfWork:
    session: AsyncSession

    async def __aenter__(self) -> "AsyncUnitOfWork":
        self.session = AsyncSessionLocal()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.close()


def get_uow():
    with UnitOfWork() as uow:
        yield uow


async def get_async_uow():
    async with AsyncUnitOfWork() as uow:
        yield uow


class Service:
    def __init__(self, uow: UnitOfWork):
        self.uow = uow

    def product(self, pid: int):
        return self.uow.session.get(Product, pid)

    def stats(self) -> int:
        return len(self.uow.session.scalars(select(Product)).all())


class AsyncService:
    def __init__(self, uow: AsyncUnitOfWork):
        self.uow = uow

    async def stats(self) -> int:
        return len((await self.uow.session.scalars(select(Product))).all())


class Clock:
    def __init__(self, zone: str):
        self.zone = zone

    def now(self) -> str:
        return self.zone


class Providers:
    def __init__(self) -> None:
        self._factories = {"catalog": Service}

    def get(self, name: str, uow: UnitOfWork):
        return self._factories[name](uow)


class AsyncProviders:
    def __init__(self) -> None:
        self._factories = {"catalog": AsyncService}

    def get(self, name: str, uow: AsyncUnitOfWork):
        return self._factories[name](uow)


providers = Providers()
async_providers = AsyncProviders()
FACTORIES = {"catalog": Service}
CLOCKS = {"utc": Clock}


def make(uow) -> Service:
    return Service(uow)
"""
MAIN = """
import asyncio

from fastapi import Depends, FastAPI

from holders_db import (
    CLOCKS, FACTORIES, AsyncService, AsyncUnitOfWork, Service, UnitOfWork, async_providers, get_async_uow, get_uow, make, providers,
)

app = FastAPI()


@app.get("/table-method")
async def table_method(uow: UnitOfWork = Depends(get_uow)):
    await asyncio.sleep(0)
    return providers.get("catalog", uow).product(1).title


@app.get("/module-table")
async def module_table(uow: UnitOfWork = Depends(get_uow)):
    await asyncio.sleep(0)
    return FACTORIES["catalog"](uow).product(1).title


@app.get("/by-getattr")
async def by_getattr(what: str, uow: UnitOfWork = Depends(get_uow)):
    await asyncio.sleep(0)
    return getattr(make(uow), what)()


@app.get("/by-getattr-local")
async def by_getattr_local(what: str, uow: UnitOfWork = Depends(get_uow)):
    await asyncio.sleep(0)
    service = Service(uow)
    return getattr(service, what)()


@app.get("/async-table")
async def async_table(uow: AsyncUnitOfWork = Depends(get_async_uow)):
    return await async_providers.get("catalog", uow).stats()


@app.get("/async-getattr")
async def async_getattr(what: str, uow: AsyncUnitOfWork = Depends(get_async_uow)):
    return await getattr(AsyncService(uow), what)()


@app.get("/clock")
async def clock(zone: str):
    await asyncio.sleep(0)
    return getattr(CLOCKS["utc"](zone), "now")()
"""


def _root(project):  # type: ignore[no-untyped-def]
    return project({"holders_db.py": DB, "holders_main.py": MAIN})


EXPECTED = {
    "table_method": "hands an object holding a synchronous Session (UnitOfWork.session) to `self._factories[name]`",
    "module_table": "`.product()` at line 21 is called on what `FACTORIES[\"catalog\"]` returns, an object holding a "
                    "synchronous Session (Service.uow -> UnitOfWork.session)",
    "by_getattr": "`getattr(...)()` at line 27 calls a method named at run time on an object holding a synchronous "
                  "Session (Service.uow -> UnitOfWork.session)",
    "by_getattr_local": "`getattr(...)()` at line 34 calls a method named at run time",
}


@pytest.mark.parametrize("name", EXPECTED)
def test_an_object_holding_a_session_reaching_code_the_graph_cannot_follow_is_unverified(
    project, findings, reported, name
):
    root = _root(project)
    found = findings(root, name)
    assert [f["code"] for f in found] == ["AM304"], found
    assert EXPECTED[name] in found[0]["message"], found[0]["message"]
    entry = reported(root, name)
    assert entry["action"] == "keep" and "AM105" not in entry["codes"], entry


@pytest.mark.parametrize("name", ["async_table", "async_getattr", "clock"])
def test_near_misses_an_async_session_an_object_holding_none(project, findings, reported, name):
    root = _root(project)
    assert findings(root, name) == []
    assert "AM125" not in reported(root, name)["codes"]
