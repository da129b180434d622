"""The async stack phase two writes beside a sessionmaker a lifespan keeps on the application's
state (`app.state.SessionLocal = sessionmaker(bind=engine)`, the session dependency opening
`request.app.state.SessionLocal()`). Before, every route blocked with AM230, which spelled out
the stack to write by hand. Now the lifespan gets `app.state.async_engine` and
`app.state.async_SessionLocal` after the sessionmaker, the engine disposed of after the `yield`
(in the `finally:` around it), and an async dependency beside the synchronous one; the routes move
and write. Where there is no shutdown place (a startup handler), or the lifespan does what the
async engine would not (an event listener), AM230 still blocks and says why."""

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
"""
DB = """
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session


def get_db(request: Request) -> Iterator[Session]:
    db = request.app.state.SessionLocal()
    try:
        yield db
    finally:
        db.close()


DbSession = Annotated[Session, Depends(get_db)]
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
    item = Item(name=name)
    db.add(item)
    db.commit()
    return {"id": item.id, "name": item.name}
"""
LIFESPANS = {
    "yield": """
@asynccontextmanager
async def lifespan(app: FastAPI):
    engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
    app.state.SessionLocal = sessionmaker(bind=engine, expire_on_commit=False){extra}
    yield
    engine.dispose()
""",
    "finally": """
@asynccontextmanager
async def lifespan(app: FastAPI):
    engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
    app.state.SessionLocal = sessionmaker(engine, autoflush=False){extra}
    try:
        yield
    finally:
        engine.dispose()
""",
}
MAIN = """
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker

import items

{lifespan}

app = FastAPI(lifespan=lifespan)
app.include_router(items.router)
"""
STARTUP = """
import os

from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

import items

app = FastAPI()
app.include_router(items.router)


@app.on_event("startup")
def start() -> None:
    app.state.engine = engine = create_engine(os.environ["DATABASE_URL"])
    app.state.SessionLocal = sessionmaker(bind=engine)
"""
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
        created = [client.post("/items", params={"name": n}).status_code for n in ("a", "b")]
        listed = client.get("/items").json()
        pool = app.state.async_engine.pool
    with Session(engine) as session:
        stored = list(session.scalars(select(Item.name).order_by(Item.id)))
    Base.metadata.drop_all(engine)
    engine.dispose()
    # disposed of at shutdown: a new pool took the old one's place
    print(json.dumps({
        "created": created, "listed": listed, "stored": stored, "disposed": app.state.async_engine.pool is not pool,
    }))
""")


def tree(project, main: str) -> Path:  # type: ignore[no-untyped-def]
    return project({"models.py": MODELS, "db.py": DB, "items.py": ITEMS, "main.py": main})


def lifespan_main(shape: str, extra: str = "") -> str:
    return MAIN.replace("{lifespan}", LIFESPANS[shape].replace("{extra}", extra))


def run(root: Path, kind: str) -> dict:
    return run_app(root, kind, SCRIPT, "stategenerated", warnings=("error::RuntimeWarning", "ignore::DeprecationWarning"))


def actions(document: dict) -> dict[str, str]:
    return {h["function"]: h["action"] for h in document["handlers"]}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", sorted(LIFESPANS))
def test_a_lifespan_sessionmaker_gets_its_async_stack_beside_it_and_the_routes_write(cli, project, shape, kind):
    root = tree(project, lifespan_main(shape))
    document = cli.json("phase2", root, "-s", "items.py", "--apply")
    assert actions(document) == {"list_items": "migrate", "add_item": "migrate"}, document["handlers"]
    main = (root / "main.py").read_text(encoding="utf-8")
    assert "    app.state.async_engine = create_async_engine(_async_url(engine.url), pool_pre_ping=True)\n" in main
    assert "await app.state.async_engine.dispose()" in main, main
    if shape == "finally":
        assert "    finally:\n        await app.state.async_engine.dispose()\n        engine.dispose()\n" in main, main
        assert "autoflush=False" in main, main
    db = (root / "db.py").read_text(encoding="utf-8")
    assert "async def get_async_db_session(request: Request) -> AsyncIterator[AsyncSession]:" in db, db
    assert "    async with request.app.state.async_SessionLocal() as session:\n" in db, db
    assert "async def add_item(name: str, db: async_session_dependency):" in (root / "items.py").read_text()
    assert run(root, kind) == {"created": [201, 201], "listed": ["a", "b"], "stored": ["a", "b"], "disposed": True}


def test_near_miss_a_startup_handler_has_no_shutdown_place_and_still_blocks(cli, project):
    root = tree(project, STARTUP)
    document = cli.json("phase2", root, "-s", "items.py")
    found = {h["function"]: h for h in document["handlers"]}["add_item"]
    assert found["action"] == "blocked" and found["codes"] == ["AM230"], found
    reason = found["reasons"][0]
    assert "`start` (main.py:14) is not one (a startup handler or an application factory has no such place)" in reason
    assert "`app.state.async_SessionLocal = async_sessionmaker(" in reason, reason
    assert document["files_changed"] == [], document["files_changed"]


def test_near_miss_a_lifespan_registering_a_listener_still_blocks(cli, project):
    listener = '\n    event.listen(engine, "connect", lambda connection, record: None)'
    root = tree(project, lifespan_main("yield", listener))
    found = {h["function"]: h for h in cli.json("phase2", root, "-s", "items.py")["handlers"]}["add_item"]
    assert found["action"] == "blocked" and found["codes"] == ["AM230"], found
    assert "registers no event listener" in found["reasons"][0], found
