"""AM338 process-wide-async-session: an `async def` handler works on one AsyncSession every request shares.

`db = SessionLocal()` at module level on an `async_sessionmaker`, and a holder made at import
(`crud = CRUD(SessionLocal())`, its `__init__` keeping the Session as `self.db`), reached by name,
through an imported module (`shared.crud.save()`) or entered (`async with uow:`), passed `check`
as all-clear. Unverified: a holder made at import whose class sets its AsyncSession outside
`__init__`. Near misses: a Session opened per request, a holder made per request, and a
module-level object holding a sessionmaker rather than a Session. The premise test runs two
requests' work on one module-level AsyncSession at once and sees it refuse."""

from __future__ import annotations

import asyncio
import sys

from sample import load_module

DB = """
from typing import Optional

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine("{url}")
SessionLocal = async_sessionmaker(engine)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    stock: Mapped[int]


class CRUD:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def count(self) -> int:
        return await self._scalar()

    async def _scalar(self) -> int:
        return (await self.db.execute(text("SELECT count(*) FROM items"))).scalar_one()

    async def touch(self) -> None:
        await self.db.execute(text("SELECT 1"))
        await self.db.commit()


class UnitOfWork:
    def __init__(self, factory=SessionLocal):
        self.factory = factory

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self.factory()
        return self

    async def __aexit__(self, *args) -> None:
        await self.session.commit()
        await self.session.close()


class Makers:
    def __init__(self, maker: async_sessionmaker):
        self.maker = maker

    async def count(self) -> int:
        async with self.maker() as db:
            return (await db.execute(text("SELECT count(*) FROM items"))).scalar_one()


db = SessionLocal()
crud = CRUD(SessionLocal())
uow = UnitOfWork()
makers = Makers(SessionLocal)
"""
MAIN = """
from fastapi import FastAPI
from sqlalchemy import text

import pw_db
from pw_db import CRUD, SessionLocal, crud, db, makers, uow

app = FastAPI()


@app.get("/direct")
async def direct() -> int:
    return (await db.execute(text("SELECT count(*) FROM items"))).scalar_one()


@app.get("/held")
async def held() -> int:
    return await crud.count()


@app.get("/module")
async def through_module() -> int:
    return await pw_db.crud.count()


@app.get("/entered")
async def entered() -> int:
    async with uow:
        return 1


@app.get("/own")
async def own() -> int:
    async with SessionLocal() as session:
        return await CRUD(session).count()


@app.get("/maker")
async def maker() -> int:
    return await makers.count()
"""


def _root(project):  # type: ignore[no-untyped-def]
    return project({"pw_db.py": DB.format(url="sqlite+aiosqlite:///./app.db"), "pw_main.py": MAIN})


def test_work_on_an_async_session_made_at_import_is_am338(project, findings):
    root = _root(project)
    found = {name: findings(root, name) for name in ("direct", "held", "through_module")}
    assert {name: [f["code"] for f in each] for name, each in found.items()} == dict.fromkeys(found, ["AM338"]), found
    lines = DB.lstrip("\n").splitlines()
    made = {name: lines.index(f"{name} = {value}") + 1 for name, value in (("db", "SessionLocal()"), ("crud", "CRUD(SessionLocal())"))}
    assert f"shares at line 12 (`db.execute()`) (made at import at pw_db.py:{made['db']})" in found["direct"][0]["message"]
    assert f"line 17 (`crud.count()`) (made at import at pw_db.py:{made['crud']})" in found["held"][0]["message"]
    assert f"line 22 (`crud.count()`) (made at import at pw_db.py:{made['crud']})" in found["through_module"][0]["message"]


def test_a_shared_holder_setting_its_session_outside_init_is_unverified(project, findings):
    found = findings(_root(project), "entered")
    assert [f["code"] for f in found] == ["AM338"], found
    assert "`async with uow: (__aexit__)`" in found[0]["message"], found
    assert "unverified, not cleared" in found[0]["message"], found


def test_near_miss_a_session_per_request_and_a_shared_sessionmaker(project, findings):
    root = _root(project)
    assert findings(root, "own") == [] and findings(root, "maker") == []


def test_the_premise_two_requests_on_one_module_level_async_session_fail(tmp_path):
    saved = sys.modules.pop("pw_db", None)
    try:
        shared = load_module(tmp_path, "pw_db", DB.format(url=f"sqlite+aiosqlite:///{tmp_path / 'pw.db'}"))

        async def requests() -> str:
            # what two requests committing through it at once do: each one's commit beside the other's work
            said = ""
            try:
                await asyncio.gather(*(shared.crud.touch() for _ in range(2)))
            except Exception as error:  # noqa: BLE001 - what it raised is what the test reads
                said = type(error).__name__
            await asyncio.sleep(0.2)  # the other request's work left running on the Session
            await shared.engine.dispose()
            return said

        said = asyncio.run(requests())
    finally:
        sys.modules.pop("pw_db", None)
        if saved is not None:
            sys.modules["pw_db"] = saved
    assert said in ("InvalidRequestError", "IllegalStateChangeError"), said
