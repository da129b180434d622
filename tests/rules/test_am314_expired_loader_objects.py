"""AM314 for a read after a commit on an object a loader on the route's AsyncSession gave it.

`current_user: User = Depends(get_current_active_user)`, the dependency (however deep) taking the
AsyncSession from the route's own Session dependency (one Session per request: FastAPI caches the
dependency), or `it = await crud.item.get_async(db, id=id)` (a generic CRUD object's `->
Optional[ModelType]`): the route's `await db.commit()` (or a coroutine's it awaits) expires the
object, and the next read raises MissingGreenlet on an expiring sessionmaker. `check` reported
the same read on `await db.get(Item, id)` only. A dependency sharing the Session whose loading the
analysis cannot trace, declared a mapped class, is unverified. Near misses: a refresh after the
commit, a read before it, a dependency opening its own Session, a dependency giving a service
object, and `expire_on_commit=False`. The premise runs the routes on aiosqlite."""

from __future__ import annotations

import asyncio

from sample import imported

DB = """from typing import Any, Generic, Optional, Type, TypeVar

from sqlalchemy import ForeignKey, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine("{url}")
SessionLocal = async_sessionmaker(engine, autoflush=False{keywords})


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    views: Mapped[int] = mapped_column(default=0)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


async def get_db():
    async with SessionLocal() as db:
        yield db


ModelType = TypeVar("ModelType", bound=Base)


class CRUDBase(Generic[ModelType]):
    def __init__(self, model: Type[ModelType]):
        self.model = model

    async def get_async(self, db: AsyncSession, id: Any) -> Optional[ModelType]:
        return (await db.scalars(select(self.model).where(self.model.id == id).limit(1))).first()

    async def bump_all(self, db: AsyncSession) -> int:
        await db.commit()
        return 1


item = CRUDBase(Item)
user = CRUDBase(User)
"""
MAIN = """from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

import loader_db as ldb
from loader_db import SessionLocal, User, get_db

app = FastAPI()


async def get_current_user(db: AsyncSession = Depends(get_db)) -> User:
    u = await ldb.user.get_async(db, id=1)
    return u


async def get_active_user(current_user: User = Depends(get_current_user)) -> User:
    return current_user


async def get_own_user() -> User:
    async with SessionLocal() as s:
        return await s.get(User, 1)


@app.post("/dep")
async def dep(db: AsyncSession = Depends(get_db), current_user: User = Depends(get_active_user)) -> dict:
    await db.commit()
    return {"msg": current_user.email}


@app.post("/dep-callee")
async def dep_callee(db: AsyncSession = Depends(get_db), current_user: User = Depends(get_active_user)) -> dict:
    n = await ldb.item.bump_all(db)
    return {"msg": f"{n} {current_user.email}"}


@app.post("/crud/{id}")
async def crud(id: int, db: AsyncSession = Depends(get_db)) -> dict:
    it = await ldb.item.get_async(db, id=id)
    it.views = it.views + 1
    await db.commit()
    return {"msg": it.title}


@app.post("/crud-refreshed/{id}")
async def crud_refreshed(id: int, db: AsyncSession = Depends(get_db)) -> dict:
    it = await ldb.item.get_async(db, id=id)
    it.views = it.views + 1
    await db.commit()
    await db.refresh(it)
    return {"msg": it.title}


@app.post("/dep-before")
async def dep_before(db: AsyncSession = Depends(get_db), current_user: User = Depends(get_active_user)) -> dict:
    email = current_user.email
    await db.commit()
    return {"msg": email}


@app.post("/dep-own")
async def dep_own(db: AsyncSession = Depends(get_db), current_user: User = Depends(get_own_user)) -> dict:
    await db.commit()
    return {"msg": current_user.email}


@app.post("/direct/{id}")
async def direct(id: int, db: AsyncSession = Depends(get_db)) -> dict:
    it = await db.get(ldb.Item, id)
    await db.commit()
    return {"msg": it.title}


async def lookup(db: AsyncSession, token: str):
    return await db.run_sync(lambda s: s.get(User, 1))


async def get_looked_up_user(db: AsyncSession = Depends(get_db)) -> User:
    return await lookup(db, "t")


class Service:
    def __init__(self, db: AsyncSession):
        self.db = db
        self.name = "x"


async def get_service(db: AsyncSession = Depends(get_db)) -> Service:
    return Service(db)


@app.post("/dep-untraced")
async def dep_untraced(db: AsyncSession = Depends(get_db), current_user: User = Depends(get_looked_up_user)) -> dict:
    await db.commit()
    return {"msg": current_user.email}


@app.post("/dep-service")
async def dep_service(db: AsyncSession = Depends(get_db), svc: Service = Depends(get_service)) -> dict:
    await db.commit()
    return {"msg": svc.name}


class Checker:
    def __init__(self, role: str):
        self.role = role

    async def __call__(self, current_user: User = Depends(get_current_user)) -> User:
        return current_user


@app.post("/dep-checker")
async def dep_checker(db: AsyncSession = Depends(get_db), current_user: User = Depends(Checker("write"))) -> dict:
    await db.commit()
    return {"msg": current_user.email}
"""
# dep_checker: a callable-class instance's `__call__` is the dependency FastAPI runs
REPORTED = ["dep", "dep_callee", "crud", "direct", "dep_untraced", "dep_checker"]
NEAR_MISSES = ["crud_refreshed", "dep_before", "dep_own", "dep_service"]


def _root(project, keywords: str = ""):  # type: ignore[no-untyped-def]
    source = DB.format(url="sqlite+aiosqlite:///./app.db", keywords=keywords)
    return project({"loader_db.py": source, "loader_main.py": MAIN})


def test_a_read_after_a_commit_on_a_dependency_or_loader_object_is_am314(project, findings):
    root = _root(project)
    found = {name: findings(root, name) for name in REPORTED}
    assert {name: [f["code"] for f in each] for name, each in found.items()} == dict.fromkeys(REPORTED, ["AM314"]), found
    assert "current_user.email (expired by the db.commit() at line 26)" in found["dep"][0]["message"], found["dep"]
    assert "current_user.email (expired by the `bump_all(...)`" in found["dep_callee"][0]["message"], found
    assert "it.title (expired by the db.commit() at line 40)" in found["crud"][0]["message"], found["crud"]
    for name in ("dep", "dep_callee", "crud"):
        assert "unverified" not in found[name][0]["message"], found[name]
    # shares the Session dependency, loads through code the analysis does not trace: not cleared
    assert "cannot tell that AsyncSession holds: unverified, not cleared" in found["dep_untraced"][0]["message"]


def test_near_miss_refresh_earlier_read_own_session_service_and_kept_objects(project, findings):
    assert {name: findings(_root(project), name) for name in NEAR_MISSES} == dict.fromkeys(NEAR_MISSES, [])
    kept = _root(project, ", expire_on_commit=False")
    assert {name: findings(kept, name) for name in REPORTED} == dict.fromkeys(REPORTED, [])


def test_the_premise_flagged_routes_raise_and_near_misses_answer(tmp_path):
    source = DB.format(url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", keywords="")
    with imported(tmp_path, {"loader_db": source, "loader_main": MAIN}) as (db, main):

        async def run(name: str) -> str:
            async with db.engine.begin() as conn:
                await conn.run_sync(db.Base.metadata.drop_all)
                await conn.run_sync(db.Base.metadata.create_all)
            async with db.SessionLocal() as session:
                session.add_all([db.User(id=1, email="a@x"), db.Item(id=1, title="t", views=0, owner_id=1)])
                await session.commit()
            async with db.SessionLocal() as session:
                try:
                    if name in ("crud", "crud_refreshed", "direct"):
                        await getattr(main, name)(1, db=session)
                    else:
                        # FastAPI hands the dependency chain the request's one (cached) Session
                        user = {
                            "dep_own": lambda: main.get_own_user(),
                            "dep_untraced": lambda: main.get_looked_up_user(session),
                        }.get(name, lambda: main.get_current_user(session))
                        given = await user()
                        await getattr(main, name)(db=session, current_user=given)
                except Exception as error:  # noqa: BLE001 - what it raised is what the test reads
                    return "MissingGreenlet" if "MissingGreenlet" in f"{type(error).__name__} {error}" else repr(error)
            return ""

        async def every() -> dict[str, str]:
            names = [n for n in REPORTED + NEAR_MISSES if n != "dep_service"]
            said = {name: await run(name) for name in names}
            await db.engine.dispose()
            return said

        said = asyncio.run(every())
    expected = {**dict.fromkeys(REPORTED, "MissingGreenlet"), **dict.fromkeys(NEAR_MISSES, "")}
    del expected["dep_service"]
    assert said == expected
