"""AM314 around a failed commit and its rollback: `db.add(doc)`, then `try: await db.commit()
except IntegrityError: await db.rollback(); return {"dup": doc.name}`. When the handler runs the
commit raised (or never ran) and expired nothing; the rollback expunges the objects added in the
transaction it rolls back, keeping their attributes, and expires the persistent ones (loaded, or
committed earlier). `check` read the handler's read as one after the commit: a false AM314 on the
added object, and on a loaded one the wrong cause (the commit, fixed by `expire_on_commit=False`,
which fixes nothing a rollback expires). An object loaded or added only after a commit or a
rollback was reported expired by it too. The premise test runs the routes on aiosqlite."""

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
ENGINE = '''
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite://")
maker = async_sessionmaker(engine)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
'''
# The premise runs these as written; `check` reads them under the dependency above (whose
# sessionmaker keeps `expire_on_commit=True`).
ROUTES = '''
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from docs import Doc


@router.post("/added")
async def added(name: str, db: AsyncSession):
    doc = Doc(name=name)
    db.add(doc)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        return {"dup": doc.name}
    return {"ok": 1}


@router.post("/flushed")
async def flushed(name: str, db: AsyncSession):
    doc = Doc(name=name + "-new")
    db.add(doc)
    await db.flush()
    db.add(Doc(name=name))
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        return {"dup": doc.name}
    return {"ok": 1}


@router.post("/loaded")
async def loaded(name: str, db: AsyncSession):
    doc = await db.get(Doc, 2)
    try:
        doc.name = name
        await db.commit()
    except IntegrityError:
        await db.rollback()
        return {"dup": doc.name}
    return {"ok": 1}


@router.post("/committed-before")
async def committed_before(name: str, db: AsyncSession):
    doc = Doc(name=name + "-first")
    db.add(doc)
    await db.commit()
    await db.refresh(doc)
    try:
        db.add(Doc(name=name))
        await db.commit()
    except IntegrityError:
        await db.rollback()
        return {"dup": doc.name}
    return {"ok": 1}


@router.post("/added-after")
async def added_after(name: str, db: AsyncSession):
    await db.rollback()
    doc = Doc(name=name + "-after")
    db.add(doc)
    return {"name": doc.name}
'''
CHECKED = ROUTES.replace("db: AsyncSession", "db: AsyncSession = Depends(get_session)").replace(
    "from docs import Doc", "from fastapi import Depends\n\nfrom db.async_engine import get_session\nfrom docs import Doc"
) + '''

@router.post("/loaded-after")
async def loaded_after(db: AsyncSession = Depends(get_session)):
    await db.commit()
    doc = await db.get(Doc, 1)
    return {"name": doc.name}


@router.post("/failed-else")
async def failed_else(name: str, db: AsyncSession = Depends(get_session)):
    doc = await db.get(Doc, 2)
    try:
        doc.name = name
        await db.commit()
    except IntegrityError:
        return {"dup": 1}
    return {"name": doc.name}


@router.post("/commit-then-more")
async def commit_then_more(name: str, db: AsyncSession = Depends(get_session)):
    doc = Doc(name=name)
    db.add(doc)
    try:
        await db.commit()
        db.add(Doc(name=name))
        await db.flush()
    except IntegrityError:
        return {"dup": doc.name}
    return {"ok": 1}
'''
FILES = {"docs.py": MODELS, "db/async_engine.py": ENGINE}


@pytest.mark.parametrize("function", ["added", "flushed", "added_after", "loaded_after"])
def test_an_object_the_rollback_expunges_or_the_session_took_after_the_expiry_is_clean(app, findings, function):
    assert findings(app(CHECKED, FILES), function) == []


@pytest.mark.parametrize("function", ["loaded", "committed_before"])
def test_a_persistent_object_read_after_the_rollback_is_am314_by_the_rollback(app, findings, function):
    found = findings(app(CHECKED, FILES), function)
    assert [f["code"] for f in found] == ["AM314"], found
    message = found[0]["message"]
    assert "doc.name (expired by the db.rollback() at line" in message, message
    assert "`await session.refresh(obj)` after the rollback" in message, message


@pytest.mark.parametrize(("function", "method"), [("failed_else", "commit"), ("commit_then_more", "commit")])
def test_near_miss_a_read_the_commit_did_reach_is_am314(app, findings, function, method):
    found = findings(app(CHECKED, FILES), function)
    assert [f["code"] for f in found] == ["AM314"], found
    assert f"(expired by the db.{method}() at line" in found[0]["message"], found


def test_the_premise_a_rollback_expunges_what_it_added_and_expires_what_is_persistent(tmp_path):
    with async_routes(tmp_path, {"docs": MODELS}, ROUTES, lambda docs: [docs.Doc(id=1, name="a"), docs.Doc(id=2, name="b")]) as client:
        codes = {path: client.post(f"/{path}", params={"name": "a"}) for path in (
            "added", "flushed", "loaded", "committed-before", "added-after",
        )}
    assert {path: r.status_code for path, r in codes.items()} == {
        "added": 200, "flushed": 200, "loaded": 500, "committed-before": 500, "added-after": 200,
    }, {path: r.text for path, r in codes.items()}
    assert codes["added"].json() == {"dup": "a"} and codes["flushed"].json() == {"dup": "a-new"}
