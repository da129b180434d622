"""AM314 after a savepoint or transaction block rolled back: the exception leaving `async with
db.begin_nested():` (ending a `try`'s body) rolls the savepoint back, expiring the objects changed
inside it, and `db.begin()`'s block every object; so does `await sp.rollback()` on `sp = await
db.begin_nested()`. Read in the `except` handler (or after it), an expired attribute loads, which
raises MissingGreenlet on an AsyncSession. Phase two blocks such code (AM292); `check` cleared it.
An object the savepoint did not change, one added inside it (expunged, its attributes kept), one
refreshed first, or a handler that leaves the route: clean. The premise test runs the routes on
aiosqlite."""

from __future__ import annotations

import pytest
from sample import async_routes

MODELS = '''
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Doc(Base):
    __tablename__ = "docs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
'''
ROUTES = '''
from fastapi import HTTPException
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from docs import Doc


@router.post("/savepoint")
async def savepoint(name: str, db: AsyncSession):
    doc = await db.get(Doc, 2)
    try:
        async with db.begin_nested():
            doc.name = name
    except IntegrityError:
        return {"dup": doc.name}
    return {"ok": 1}


@router.post("/carries-on")
async def carries_on(name: str, db: AsyncSession):
    doc = await db.get(Doc, 2)
    try:
        async with db.begin_nested():
            doc.name = name
    except IntegrityError:
        pass
    return {"name": doc.name}


@router.post("/taken")
async def taken(name: str, db: AsyncSession):
    doc = await db.get(Doc, 2)
    sp = await db.begin_nested()
    doc.name = name + "-x"
    await sp.rollback()
    return {"name": doc.name}


@router.post("/unchanged")
async def unchanged(name: str, db: AsyncSession):
    doc = await db.get(Doc, 2)
    try:
        async with db.begin_nested():
            db.add(Doc(name=name))
    except IntegrityError:
        return {"dup": doc.name}
    return {"ok": 1}


@router.post("/added-inside")
async def added_inside(name: str, db: AsyncSession):
    await db.get(Doc, 2)
    try:
        async with db.begin_nested():
            doc = Doc(name=name)
            db.add(doc)
    except IntegrityError:
        return {"dup": doc.name}
    return {"ok": 1}


@router.post("/refreshed")
async def refreshed(name: str, db: AsyncSession):
    doc = await db.get(Doc, 2)
    try:
        async with db.begin_nested():
            doc.name = name
    except IntegrityError:
        await db.refresh(doc)
        return {"dup": doc.name}
    return {"ok": 1}


@router.post("/leaves")
async def leaves(name: str, db: AsyncSession):
    doc = await db.get(Doc, 2)
    try:
        async with db.begin_nested():
            doc.name = name
    except IntegrityError:
        raise HTTPException(status_code=409, detail="taken")
    return {"name": doc.name}
'''
ENGINE = '''
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite://")
maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
'''
CHECKED = ROUTES.replace("db: AsyncSession", "db: AsyncSession = Depends(get_session)").replace(
    "from docs import Doc", "from fastapi import Depends\n\nfrom db.async_engine import get_session\nfrom docs import Doc"
)
FILES = {"docs.py": MODELS, "db/async_engine.py": ENGINE}


@pytest.mark.parametrize(("function", "why"), [
    ("savepoint", "rollback() of `db.begin_nested()` at line"),
    ("carries_on", "rollback() of `db.begin_nested()` at line"),
    ("taken", "sp.rollback() at line"),
])
def test_a_read_after_a_savepoint_rolled_back_what_it_changed_is_am314(app, findings, function, why):
    found = findings(app(CHECKED, FILES), function)
    assert [f["code"] for f in found] == ["AM314"], found
    message = found[0]["message"]
    assert f"doc.name (expired by the {why}" in message, message
    assert "`await session.refresh(obj)` after the rollback" in message, message


@pytest.mark.parametrize("function", ["unchanged", "added_inside", "refreshed", "leaves"])
def test_near_miss_what_the_savepoint_did_not_expire_or_a_refresh_or_leaving_is_clean(app, findings, function):
    assert findings(app(CHECKED, FILES), function) == []


def test_the_premise_a_savepoint_rolled_back_expires_what_it_changed(tmp_path):
    with async_routes(tmp_path, {"docs": MODELS}, ROUTES, lambda docs: [docs.Doc(id=1, name="a"), docs.Doc(id=2, name="b")]) as client:
        paths = ("savepoint", "carries-on", "taken", "unchanged", "added-inside", "refreshed", "leaves")
        codes = {path: client.post(f"/{path}", params={"name": "a"}).status_code for path in paths}
    assert codes == {
        "savepoint": 500, "carries-on": 500, "taken": 500, "unchanged": 200, "added-inside": 200, "refreshed": 200,
        "leaves": 409,
    }
