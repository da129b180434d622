"""AM340 refresh-of-rolled-back-object: `await db.refresh(book)` after the rollback of the
transaction that took `book` (its commit the one that failed) raises InvalidRequestError; check
passed the shape phase two wrote in a class-based view (found by a new-user trial). Near misses:
an object a commit before the `try` made persistent, one a query loaded, no refresh. The premise
runs on aiosqlite."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from test_phase2_rules import MODELS

ROUTES = """
from fastapi import Depends, HTTPException
from fastapi.responses import JSONResponse
from fastapi_utils.cbv import cbv
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import Book


async def get_db():
    yield AsyncSession()


@cbv(router)
class BookViews:
    db: AsyncSession = Depends(get_db)

    @router.post("/view")
    async def view(self, title: str):
        book = Book(title=title, author_id=1)
        self.db.add(book)
        try:
            await self.db.commit()
        except IntegrityError:
            await self.db.rollback()
            await self.db.refresh(book)
            raise HTTPException(status_code=409, detail="taken")
        return {"id": book.id}

    @router.post("/view-plain")
    async def view_plain(self, title: str):
        book = Book(title=title, author_id=1)
        self.db.add(book)
        try:
            await self.db.commit()
        except IntegrityError:
            await self.db.rollback()
            raise HTTPException(status_code=409, detail="taken")
        return {"id": book.id}


@router.post("/param")
async def param(title: str, db: AsyncSession = Depends(get_db)):
    book = Book(title=title, author_id=1)
    db.add(book)
    try:
        await db.flush()
        await db.commit()
    except IntegrityError:
        await db.rollback()
        await db.refresh(book)
        return JSONResponse({"taken": book.title}, status_code=409)
    return {"id": book.id}


@router.post("/committed-before")
async def committed_before(title: str, db: AsyncSession = Depends(get_db)):
    book = Book(title=title, author_id=1)
    db.add(book)
    await db.commit()
    other = Book(title=title + "2", author_id=1)
    db.add(other)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        await db.refresh(book)
        return JSONResponse({"kept": book.title}, status_code=409)
    return {"id": book.id}


@router.post("/loaded")
async def loaded(book_id: int, db: AsyncSession = Depends(get_db)):
    book = await db.get(Book, book_id)
    db.add(book)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        await db.refresh(book)
        return JSONResponse({"kept": book.title}, status_code=409)
    return {"id": book.id}
"""
REPORTED = ["BookViews.view", "param"]
NEAR_MISSES = ["BookViews.view_plain", "committed_before", "loaded"]


def test_a_refresh_of_an_object_the_rollback_expunged_is_am339(app, findings):
    root = app(ROUTES, {"models.py": MODELS})
    found = {name: findings(root, name) for name in REPORTED}
    assert {name: [f["code"] for f in each] for name, each in found.items()} == dict.fromkeys(REPORTED, ["AM340"]), found
    assert "await self.db.refresh(book) after the self.db.rollback() at line" in found["BookViews.view"][0]["message"]
    assert "InvalidRequestError" in found["param"][0]["message"], found


@pytest.mark.parametrize("name", NEAR_MISSES)
def test_near_miss_a_persistent_object_or_no_refresh_is_no_finding(app, findings, name):
    assert findings(app(ROUTES, {"models.py": MODELS}), name) == []


def test_the_premise_the_refresh_raises_and_a_committed_object_refreshes(tmp_path):
    class Base(DeclarativeBase):
        pass

    class Thing(Base):
        __tablename__ = "things"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(20), unique=True)

    async def run() -> tuple[str, str, list[str]]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        maker = async_sessionmaker(engine, expire_on_commit=False)
        async with maker() as db:
            db.add(Thing(name="a"))
            await db.commit()
        said = []
        for committed_first in (False, True):
            async with maker() as db:
                kept = Thing(name=f"k{committed_first}")
                if committed_first:
                    db.add(kept)
                    await db.commit()
                thing = Thing(name="a")
                db.add(thing)
                try:
                    await db.commit()
                except IntegrityError:
                    await db.rollback()
                    try:
                        await db.refresh(kept if committed_first else thing)
                        said.append("")
                    except InvalidRequestError as error:
                        said.append("not persistent" if "not persistent" in str(error) else repr(error))
        async with maker() as db:
            names = list(await db.scalars(select(Thing.name).order_by(Thing.name)))
        await engine.dispose()
        return said[0], said[1], names

    assert asyncio.run(run()) == ("not persistent", "", ["a", "kTrue"])
