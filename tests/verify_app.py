"""A tiny service for the verify and smoke tests: sync and async Session stacks, auth, its own tests.

`service()` is the migrated state that verify must pass; each regression in the tests
edits one file of it. Everything runs on a SQLite file named by TINY_DB (a scratch path
the conftest of the service sets).
"""

from __future__ import annotations

DB = '''
import os
from collections.abc import AsyncIterator, Iterator

from sqlalchemy import String, create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

PATH = os.environ.get("TINY_DB", "tiny.db")
engine = create_engine("sqlite:///" + PATH, connect_args={"check_same_thread": False})
database_sessionmaker = sessionmaker(engine, expire_on_commit=False)
async_engine = create_async_engine("sqlite+aiosqlite:///" + PATH)
async_database_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    api_key: Mapped[str] = mapped_column(String(50))


def get_db_session() -> Iterator[Session]:
    with database_sessionmaker() as session:
        yield session


async def get_async_db_session() -> AsyncIterator[AsyncSession]:
    async with async_database_sessionmaker() as session:
        yield session
'''

DEPS = '''
from typing import Annotated

from fastapi import Depends, Header, HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db import User, get_async_db_session, get_db_session

session_dependency = Annotated[Session, Depends(get_db_session)]
async_session_dependency = Annotated[AsyncSession, Depends(get_async_db_session)]


def get_current_user(session: session_dependency, x_api_key: Annotated[str | None, Header()] = None) -> User:
    user = session.scalars(select(User).where(User.api_key == x_api_key)).first()
    if user is None:
        raise HTTPException(status_code=401, detail="bad key")
    return user


async def get_current_user_async(
    session: async_session_dependency, x_api_key: Annotated[str | None, Header()] = None
) -> User:
    user = (await session.scalars(select(User).where(User.api_key == x_api_key))).first()
    if user is None:
        raise HTTPException(status_code=401, detail="bad key")
    return user
'''

SCHEMAS = '''
from pydantic import BaseModel, ConfigDict


class ItemIn(BaseModel):
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
'''

ITEMS = '''
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from db import Item, User
from deps import async_session_dependency, get_current_user, get_current_user_async, session_dependency
from schemas import ItemIn, ItemOut

router = APIRouter()


@router.get("/items", response_model=list[ItemOut])
def list_items(session: session_dependency):
    return session.scalars(select(Item).order_by(Item.id)).all()


@router.post("/items", response_model=ItemOut, status_code=201)
def create_item(payload: ItemIn, user: Annotated[User, Depends(get_current_user)], session: session_dependency):
    item = Item(name=payload.name)
    session.add(item)
    session.commit()
    return item


@router.post("/notes", response_model=ItemOut, status_code=201)
async def create_note(
    payload: ItemIn, user: Annotated[User, Depends(get_current_user_async)], session: async_session_dependency
):
    item = Item(name=payload.name)
    session.add(item)
    await session.commit()
    return item
'''

MAIN = '''
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import items
from db import Base, User, database_sessionmaker, engine


@asynccontextmanager
async def lifespan(app):
    Base.metadata.create_all(engine)
    with database_sessionmaker() as session:
        if session.get(User, 1) is None:
            session.add(User(id=1, api_key="key"))
            session.commit()
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(items.router)


@app.get("/health")
async def health():
    return {"status": "ok"}
'''

CONFTEST = '''
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
_SCRATCH = tempfile.mkdtemp(prefix="tiny-")
atexit.register(shutil.rmtree, _SCRATCH, True)
os.environ["TINY_DB"] = os.path.join(_SCRATCH, "tiny.db")

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from main import app  # noqa: E402


@pytest.fixture
def client():
    with TestClient(app) as client:
        yield client
'''

TESTS = '''
KEY = {"X-API-Key": "key"}


def test_create_and_list(client):
    assert client.post("/items", json={"name": "a"}, headers=KEY).status_code == 201
    assert [i["name"] for i in client.get("/items").json()] == ["a"]


def test_create_needs_a_key(client):
    assert client.post("/items", json={"name": "b"}).status_code == 401


def test_note(client):
    assert client.post("/notes", json={"name": "n"}, headers=KEY).status_code == 201


def test_health(client):
    assert client.get("/health").json() == {"status": "ok"}
'''


def service() -> dict[str, str]:
    return {
        "db.py": DB,
        "deps.py": DEPS,
        "schemas.py": SCHEMAS,
        "api/__init__.py": "",
        "api/items.py": ITEMS,
        "main.py": MAIN,
        "tests/conftest.py": CONFTEST,
        "tests/test_api.py": TESTS,
        ".gitignore": "*.db\n__pycache__/\n",
    }
