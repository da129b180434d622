"""AM314 and a route returning an object under a response model on a path the commit is not on.

`if existing is not None: return existing` before `await db.commit()` returns an object no commit
expired: FastAPI reads its fields as loaded. `check` placed every `return author` at the commit's
line and reported the early return as read after the commit. Only a return the commit may run
before counts now: one after it in the source, not in a branch excluding the commit's (the `else`
of the `if` committing, another `except` handler), or one a loop may run again after it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from test_phase2_rules import MODELS, SCHEMAS

ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from models import Author
from schemas import AuthorOut

engine = create_async_engine("sqlite+aiosqlite://")
Expiring = async_sessionmaker(engine)


async def get_expiring():
    async with Expiring() as session:
        yield session


@router.post("/early", response_model=AuthorOut)
async def early(name: str, db: AsyncSession = Depends(get_expiring)):
    author = await db.get(Author, 1)
    if author is not None:
        return author
    db.add(Author(name=name))
    await db.commit()
    return {"name": name}


@router.post("/other-branch", response_model=AuthorOut)
async def other_branch(name: str, save: bool, db: AsyncSession = Depends(get_expiring)):
    author = await db.get(Author, 1)
    if save:
        author.name = name.upper()
        await db.commit()
        return {"name": name}
    else:
        return author


@router.post("/late", response_model=AuthorOut)
async def late(name: str, db: AsyncSession = Depends(get_expiring)):
    author = await db.get(Author, 1)
    if author is None:
        return {"name": name}
    author.name = name.upper()
    await db.commit()
    return author


@router.post("/both", response_model=AuthorOut)
async def both(name: str, db: AsyncSession = Depends(get_expiring)):
    author = await db.get(Author, 1)
    if author is None:
        return {"name": name}
    if name.startswith("x"):
        return author
    author.name = name.upper()
    await db.commit()
    return author


@router.post("/looped", response_model=AuthorOut)
async def looped(names: list[str], db: AsyncSession = Depends(get_expiring)):
    author = await db.get(Author, 1)
    for name in names:
        if name == "stop":
            return author
        author.name = name
        await db.commit()
    return {"name": "none"}
"""


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    return app(ROUTES, {"models.py": MODELS, "schemas.py": SCHEMAS})


@pytest.mark.parametrize("function", ["early", "other_branch"])
def test_near_miss_a_return_on_a_path_without_the_commit_is_no_finding(root, findings, function):
    assert [f for f in findings(root, function) if f["code"] == "AM314"] == []


@pytest.mark.parametrize(("function", "fragment"), [
    ("late", "return author"), ("both", "    return author\n\n\n@router.post(\"/looped\""), ("looped", "await db.commit()"),
], ids=["late", "both", "looped"])
def test_a_return_the_commit_may_run_before_is_am314(root, findings, function, fragment):
    found = [f for f in findings(root, function) if f["code"] == "AM314"]
    assert len(found) == 1, found
    assert "`author` returned, whose fields the response model AuthorOut reads" in found[0]["message"], found
    # at the return the commit runs before (a loop's: at the commit, where it may run again after)
    text = (root / "api/items.py").read_text(encoding="utf-8")
    start = text.index(f"async def {function}(")
    line = text[:text.index(fragment, start)].count("\n") + 1
    assert f"expired at line {line} (`author` returned" in found[0]["message"], (found[0], line)


def test_the_premise_the_early_return_serialises_the_object_as_loaded():
    """The early return, run: served from what the query loaded, no commit between, 200."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from pydantic import BaseModel, ConfigDict
    from sqlalchemy import Integer, String, select
    from sqlalchemy.orm import DeclarativeBase, mapped_column

    class Base(DeclarativeBase):
        pass

    class Writer(Base):
        __tablename__ = "writers"
        id = mapped_column(Integer, primary_key=True)
        name = mapped_column(String(20))

    class WriterOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        name: str

    engine = create_async_engine("sqlite+aiosqlite://")
    maker = async_sessionmaker(engine)
    app = FastAPI()

    async def get_db():
        async with maker() as session:
            yield session

    from fastapi import Depends

    @app.post("/writers", response_model=WriterOut)
    async def create(name: str, db=Depends(get_db)):  # noqa: B008
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        writer = await db.scalar(select(Writer).where(Writer.name == name))
        if writer is not None:
            return writer
        db.add(Writer(name=name))
        await db.commit()
        return {"name": name}

    try:
        with TestClient(app) as client:
            answers = [client.post("/writers", params={"name": "b"}) for _ in range(2)]
        assert [(r.status_code, r.json()) for r in answers] == [(200, {"name": "b"})] * 2
    finally:
        asyncio.run(engine.dispose())
