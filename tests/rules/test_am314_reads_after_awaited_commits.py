"""AM314 for a read after its own commit in a project coroutine the route awaits.

`await repo.rename(id, name)` where `Repo.rename` loads `u = await self.db.get(User, id)`,
commits `self.db` and returns `u.email`: on a sessionmaker keeping `expire_on_commit=True` the
read refreshes the row outside any greenlet, MissingGreenlet. `check` judged the route's own body
only and passed it, the repository reached through a dependency (`repo: Repo =
Depends(get_repo)`), built inline (`Repo(db).rename(...)`), held by a service (`self.repo`), and
a plain coroutine handed the Session (`await rename(db, id, name)`) alike; so did a method
returning the expired object to a route whose response model reads it. Near misses: a refresh
after the commit, `expire_on_commit=False`, the object returned to a route serialising none of
it, and a method opening its Session through a project context manager (`async with
get_db_context(db) as db:`, read through to the sessionmaker). The premise test runs the flagged routes (MissingGreenlet) and the near misses on aiosqlite."""

from __future__ import annotations

import asyncio

from sample import imported

DB = """
from contextlib import asynccontextmanager
from typing import Optional

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine("{url}")
SessionLocal = async_sessionmaker(engine{keywords})


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    email: Mapped[str]


async def get_db():
    async with SessionLocal() as db:
        yield db


@asynccontextmanager
async def get_db_context(db: Optional[AsyncSession] = None):
    if isinstance(db, AsyncSession):
        yield db
    else:
        async with SessionLocal() as session:
            yield session
"""
MAIN = """
from typing import Optional

from fastapi import Depends, FastAPI
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from awaited_db import User, get_db, get_db_context

app = FastAPI()


class UserOut(BaseModel):
    id: int
    email: str


class Repo:
    def __init__(self, db: AsyncSession):
        self.db = db

    async def rename(self, user_id: int, name: str) -> str:
        u = await self.db.get(User, user_id)
        u.name = name
        await self.db.commit()
        return u.email

    async def renamed(self, user_id: int, name: str) -> User:
        u = await self.db.get(User, user_id)
        u.name = name
        await self.db.commit()
        return u

    async def rename_refreshed(self, user_id: int, name: str) -> str:
        u = await self.db.get(User, user_id)
        u.name = name
        await self.db.commit()
        await self.db.refresh(u)
        return u.email


def get_repo(db: AsyncSession = Depends(get_db)) -> Repo:
    return Repo(db)


class Service:
    def __init__(self, db: AsyncSession):
        self.repo = Repo(db)

    async def rename(self, user_id: int) -> str:
        return await self.repo.rename(user_id, "x")


async def rename(db, user_id: int, name: str) -> str:
    u = await db.get(User, user_id)
    u.name = name
    await db.commit()
    return u.email


class Users:
    async def rename(self, user_id: int, name: str, db: Optional[AsyncSession] = None) -> str:
        async with get_db_context(db) as db:
            u = await db.get(User, user_id)
            u.name = name
            await db.commit()
            return u.email


USERS = Users()


@app.post("/table/{user_id}")
async def table(user_id: int) -> dict:
    return {"email": await USERS.rename(user_id, "x")}


@app.post("/dependency/{user_id}")
async def dependency(user_id: int, repo: Repo = Depends(get_repo)) -> dict:
    return {"email": await repo.rename(user_id, "x")}


@app.post("/inline/{user_id}")
async def inline(user_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    return {"email": await Repo(db).rename(user_id, "x")}


@app.post("/service/{user_id}")
async def service(user_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    return {"email": await Service(db).rename(user_id)}


@app.post("/function/{user_id}")
async def function(user_id: int, db: AsyncSession = Depends(get_db)) -> dict:
    return {"email": await rename(db, user_id, "x")}


@app.post("/returned/{user_id}", response_model=UserOut)
async def returned(user_id: int, repo: Repo = Depends(get_repo)):
    return await repo.renamed(user_id, "x")


@app.post("/refreshed/{user_id}")
async def refreshed(user_id: int, repo: Repo = Depends(get_repo)) -> dict:
    return {"email": await repo.rename_refreshed(user_id, "x")}


@app.post("/unserialised/{user_id}")
async def unserialised(user_id: int, repo: Repo = Depends(get_repo)) -> dict:
    await repo.renamed(user_id, "x")
    return {"ok": True}
"""
REPORTED = ["dependency", "inline", "service", "function", "returned", "table"]
NEAR_MISSES = ["refreshed", "unserialised"]


def _root(project, keywords: str = ""):  # type: ignore[no-untyped-def]
    db = DB.format(url="sqlite+aiosqlite:///./app.db", keywords=keywords)
    return project({"awaited_db.py": db, "awaited_main.py": MAIN})


def test_a_read_after_the_commit_of_an_awaited_method_or_coroutine_is_am314(project, findings):
    root = _root(project)
    found = {name: findings(root, name) for name in REPORTED}
    assert {name: [f["code"] for f in each] for name, each in found.items()} == dict.fromkeys(REPORTED, ["AM314"]), found
    for name in ("dependency", "inline", "service"):
        assert "u.email in awaited_main.Repo.rename at awaited_main.py:25 (expired by the `self.db.commit()` at line 24)" in \
            found[name][0]["message"], (name, found[name])
    assert "u.email in awaited_main.rename at awaited_main.py:57 (expired by the db.commit() at line 56)" in \
        found["function"][0]["message"], found["function"]
    assert "`u` returned, whose fields the response model UserOut reads in awaited_main.Repo.renamed" in \
        found["returned"][0]["message"], found["returned"]
    # the Session a project context manager opens (or hands back), read through it: no doubt left
    assert "u.email in awaited_main.Users.rename" in found["table"][0]["message"], found["table"]
    assert "cannot read" not in found["table"][0]["message"], found["table"]


def test_near_miss_a_refresh_an_unserialised_object_and_a_sessionmaker_keeping_objects(project, findings):
    assert {name: findings(_root(project), name) for name in NEAR_MISSES} == dict.fromkeys(NEAR_MISSES, [])
    kept = _root(project, ", expire_on_commit=False")
    assert {name: findings(kept, name) for name in REPORTED} == dict.fromkeys(REPORTED, [])


def test_the_premise_flagged_routes_raise_and_near_misses_answer(tmp_path):
    db_source = DB.format(url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", keywords="")
    with imported(tmp_path, {"awaited_db": db_source, "awaited_main": MAIN}) as (db, main):

        async def run(name: str) -> str:
            async with db.engine.begin() as conn:
                await conn.run_sync(db.Base.metadata.drop_all)
                await conn.run_sync(db.Base.metadata.create_all)
            async with db.SessionLocal() as session:
                session.add(db.User(id=1, name="a", email="a@x"))
                await session.commit()
            async with db.SessionLocal() as session:
                try:
                    if name == "table":
                        await main.table(1)
                    elif name in ("inline", "service", "function"):
                        await getattr(main, name)(1, db=session)
                    else:
                        said = await getattr(main, name)(1, repo=main.Repo(session))
                        if name == "returned":
                            main.UserOut.model_validate(said, from_attributes=True)  # what the response model does
                except Exception as error:  # noqa: BLE001 - what it raised is what the test reads
                    return "MissingGreenlet" if "MissingGreenlet" in f"{type(error).__name__} {error}" else repr(error)
            return ""

        async def every() -> dict[str, str]:
            said = {name: await run(name) for name in REPORTED + NEAR_MISSES}
            await db.engine.dispose()
            return said

        said = asyncio.run(every())
    assert said == {**dict.fromkeys(REPORTED, "MissingGreenlet"), **dict.fromkeys(NEAR_MISSES, "")}
