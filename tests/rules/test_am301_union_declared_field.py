"""AM301 blocking-session beside a field declared with both Session classes: a context object
whose `session: Union[Session, AsyncSession]` field holds what a route hands it reads as a
parameter declared the same does, an AsyncSession (`await self.session.flush()` is no blocking
call), where a field declared a plain `Session` alone still holds a synchronous Session."""

from __future__ import annotations

from test_phase2_rules import MODELS

ASYNC_ENGINE = """
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

async_engine = create_async_engine("sqlite+aiosqlite://")
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


async def get_async_db():
    async with AsyncSessionLocal() as session:
        yield session
"""
CONTEXTS = """
from typing import Optional, Union

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session
from sqlalchemy.ext.asyncio import AsyncSession

from models import Book


class Context(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    session: Union[Session, AsyncSession]
    title: str

    async def save(self):
        self.session.add(Book(title=self.title, author_id=1))
        await self.session.flush()


class OptionalContext(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    session: Optional[AsyncSession | Session]
    title: str

    async def save(self):
        self.session.add(Book(title=self.title, author_id=1))
        await self.session.flush()


class SyncContext(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    session: Session
    title: str

    async def save(self):
        self.session.add(Book(title=self.title, author_id=1))
        self.session.flush()
"""
ROUTES = """
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from db.asyncs import get_async_db
from services.contexts import Context, OptionalContext, SyncContext


@router.post("/union")
async def union(db: AsyncSession = Depends(get_async_db)):
    await Context(session=db, title="x").save()


@router.post("/optional")
async def optional(db: AsyncSession = Depends(get_async_db)):
    await OptionalContext(session=db, title="x").save()


@router.post("/sync")
async def sync(db: AsyncSession = Depends(get_async_db)):
    await SyncContext(session=db, title="x").save()
"""
FILES = {
    "db/asyncs.py": ASYNC_ENGINE,
    "services/__init__.py": "",
    "services/contexts.py": CONTEXTS,
    "models.py": MODELS,
}


def test_a_field_declared_either_session_is_read_as_an_async_session(app, findings):
    root = app(ROUTES, FILES)
    assert findings(root, "union") == []
    assert findings(root, "optional") == []


def test_near_miss_a_field_declared_a_plain_session_still_blocks(app, findings):
    found = findings(app(ROUTES, FILES), "sync")
    assert "AM301" in [f["code"] for f in found], found
