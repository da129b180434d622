"""`expire_on_commit` of an async_sessionmaker the application keeps on its state
(`app.state.async_sessionmaker = async_sessionmaker(engine, expire_on_commit=False)` in the
lifespan, opened by the hand-written async dependency phase two reuses). It was not read: the
reused sessions counted as expiring, so every read after a commit got an `await
session.refresh(obj)` the synchronous code never made. Now it is read from the lifespan's
assignment (the synchronous sessionmaker on the state likewise): equal settings add no refresh,
and an async side that keeps objects where the synchronous side reloaded them still refreshes."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from phase2_kit import KINDS, run_app

MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20))
"""
DB = """
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def get_db(request: Request) -> Iterator[Session]:
    db = request.app.state.SessionLocal()
    try:
        yield db
    finally:
        db.close()


DbSession = Annotated[Session, Depends(get_db)]


async def get_async_db(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.AsyncSessionLocal() as db:
        yield db


AsyncDbSession = Annotated[AsyncSession, Depends(get_async_db)]
"""
ITEMS = """
from fastapi import APIRouter
from sqlalchemy import select

from db import DbSession
from models import Item

router = APIRouter(prefix="/items")


@router.get("")
async def list_items(db: DbSession):
    return [i.name for i in db.scalars(select(Item).order_by(Item.id))]


@router.post("", status_code=201)
async def add_item(name: str, db: DbSession):
    item = Item(name=name, status="new")
    db.add(item)
    db.commit()
    return {"name": item.name, "status": item.status}
"""
MAIN = """
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

import items

ASYNC = {"sqlite": "sqlite+aiosqlite", "postgresql+psycopg": "postgresql+psycopg", "mysql+pymysql": "mysql+aiomysql"}


@asynccontextmanager
async def lifespan(app: FastAPI):
    engine = create_engine(os.environ["DATABASE_URL"])
    app.state.engine = engine
    app.state.SessionLocal = sessionmaker(bind=engine{sync_options})
    app.state.async_engine = create_async_engine(engine.url.set(drivername=ASYNC[engine.url.drivername]))
    app.state.AsyncSessionLocal = async_sessionmaker(app.state.async_engine{async_options})
    yield
    await app.state.async_engine.dispose()
    engine.dispose()


app = FastAPI(lifespan=lifespan)
app.include_router(items.router)
"""
CONFIG = """
[tool.async-migrate]
async-dependency = "get_async_db"
async-alias = "AsyncDbSession"
"""
KEEP = ", expire_on_commit=False"

SCRIPT = dedent("""
    import json, os
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session
    from main import app
    from models import Base, Item

    engine = create_engine(os.environ["DATABASE_URL"])
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with TestClient(app) as client:
        created = [client.post("/items", params={"name": n}) for n in ("a", "b")]
        listed = client.get("/items").json()
    with Session(engine) as session:
        stored = [list(row) for row in session.execute(select(Item.name, Item.status).order_by(Item.id))]
    Base.metadata.drop_all(engine)
    engine.dispose()
    print(json.dumps({
        "created": [[r.status_code, r.json()] for r in created], "listed": listed, "stored": stored,
    }))
""")


def tree(project, sync_options: str, async_options: str) -> Path:  # type: ignore[no-untyped-def]
    return project({
        "models.py": MODELS,
        "db.py": DB,
        "items.py": ITEMS,
        "main.py": MAIN.replace("{sync_options}", sync_options).replace("{async_options}", async_options),
        "pyproject.toml": CONFIG,
    })


def run(root: Path, kind: str) -> dict:
    return run_app(root, kind, SCRIPT, "stateexpiry", warnings=("error::RuntimeWarning", "ignore::DeprecationWarning"))


def migrate(cli, root: Path) -> str:  # type: ignore[no-untyped-def]
    document = cli.json("phase2", root, "-s", "items.py", "--apply")
    actions = {h["function"]: h["action"] for h in document["handlers"]}
    assert actions == {"list_items": "migrate", "add_item": "migrate"}, document["handlers"]
    return (root / "items.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", KINDS)
def test_both_sides_keeping_objects_on_commit_add_no_refresh_and_the_routes_write(cli, project, kind):
    root = tree(project, KEEP, KEEP)
    text = migrate(cli, root)
    assert "    await db.commit()\n" in text, text
    assert "refresh" not in text, text
    assert run(root, kind) == {
        # the object as the route built it, as the synchronous route answered
        "created": [[201, {"name": "a", "status": "new"}], [201, {"name": "b", "status": "new"}]],
        "listed": ["a", "b"],
        "stored": [["a", "new"], ["b", "new"]],
    }


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_an_async_side_keeping_what_the_sync_side_reloaded_still_refreshes(cli, project, kind):
    root = tree(project, "", KEEP)
    text = migrate(cli, root)
    assert "    await db.commit()\n    await db.refresh(item)\n" in text, text
    assert run(root, kind)["stored"] == [["a", "new"], ["b", "new"]]


def test_near_miss_an_async_side_set_from_a_flag_counts_as_expiring(cli, project):
    root = tree(project, KEEP, ", expire_on_commit=os.environ.get('EXPIRE') == '1'")
    text = migrate(cli, root)
    assert "    await db.commit()\n    await db.refresh(item)\n" in text, text
