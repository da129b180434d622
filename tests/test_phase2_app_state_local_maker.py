"""A session dependency reading the sessionmaker the application keeps on its state into a local
first (`maker = request.app.state.sessionmaker`, then `with maker() as session: yield session`),
the state set in a lifespan or a startup handler. Before, phase two read the local as more work per
request (AM271, asking for an async dependency "with the same statements" that it then would not
reuse), and a hand-written async dependency of the same shape, without a return annotation, was not
found even where the configuration named it and its `Annotated[AsyncSession, Depends(...)]` alias
declared it. Now the local is the opening, the named async dependency is reused, the routes move and
write; without one, AM230 gives the code to write, and written as given it is reused."""

from __future__ import annotations

import re
from pathlib import Path
from textwrap import dedent

import pytest
from phase2_kit import KINDS, run_app

MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))
"""
DB = """
import os
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from starlette.requests import {connection_class}
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def get_session({connection}: {connection_class}) -> Iterator[Session]:
    maker = {connection}.app.state.sessionmaker
    with maker() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
"""
ASYNC_DB = """

async def get_async_session({connection}: {connection_class}):
    maker = {connection}.app.state.async_sessionmaker
    async with maker() as session:
        yield session


AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_session)]
"""
NOTES = """
from fastapi import APIRouter
from sqlalchemy import select

from db import SessionDep
from models import Note

router = APIRouter(prefix="/notes")


@router.get("")
def list_notes(session: SessionDep):
    return [n.text for n in session.scalars(select(Note).order_by(Note.id))]


@router.post("", status_code=201)
def add_note(text: str, session: SessionDep):
    note = Note(text=text)
    session.add(note)
    session.commit()
    return {"id": note.id}
"""
ASYNC_URL = (
    "engine.url.set(drivername={'sqlite': 'sqlite+aiosqlite', 'postgresql+psycopg': 'postgresql+psycopg', "
    "'mysql+pymysql': 'mysql+aiomysql'}[engine.url.drivername])"
)
LIFESPAN = """
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

import notes


@asynccontextmanager
async def lifespan(app: FastAPI):
    engine = create_engine(os.environ["DATABASE_URL"])
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)
    {async_start}
    yield
    {async_stop}
    engine.dispose()


app = FastAPI(lifespan=lifespan)
app.include_router(notes.router)
"""
STARTUP = """
import os

from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

import notes

app = FastAPI()
app.include_router(notes.router)


@app.on_event("startup")
def start() -> None:
    engine = create_engine(os.environ["DATABASE_URL"])
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)
    {async_start}


@app.on_event("shutdown")
async def stop() -> None:
    {async_stop}
    app.state.engine.dispose()
"""
ASYNC_START = (
    f"async_engine = create_async_engine({ASYNC_URL})\n"
    "    app.state.async_engine = async_engine\n"
    "    app.state.async_sessionmaker = async_sessionmaker(async_engine, expire_on_commit=False)"
)
ASYNC_STOP = "await app.state.async_engine.dispose()"
CONFIG = """
[tool.async-migrate]
async-dependency = "get_async_session"
async-alias = "AsyncSessionDep"
"""
SHAPES = {"lifespan": (LIFESPAN, "HTTPConnection", "request"), "startup": (STARTUP, "Request", "request")}


def tree(project, shape: str, hand_written: bool = True, extra: str = "") -> Path:  # type: ignore[no-untyped-def]
    main, connection_class, connection = SHAPES[shape]
    names = {"connection_class": connection_class, "connection": connection}
    opening = f"    maker = {connection}.app.state.sessionmaker\n"
    db = DB.format(**names).replace(opening, opening + extra, 1)
    return project({
        "models.py": MODELS,
        "db.py": db + (ASYNC_DB.format(**names) if hand_written else ""),
        "notes.py": NOTES,
        "main.py": main.replace("{async_start}", ASYNC_START if hand_written else "pass").replace(
            "{async_stop}", ASYNC_STOP if hand_written else "pass"
        ),
        "pyproject.toml": CONFIG if hand_written else "",
    })


def handlers(document: dict) -> dict[str, dict]:
    return {h["function"]: h for h in document["handlers"]}


SCRIPT = dedent("""
    import json, os
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session
    from main import app
    from models import Base, Note

    engine = create_engine(os.environ["DATABASE_URL"])
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with TestClient(app) as client:
        created = [client.post("/notes", params={"text": t}).status_code for t in ("a", "b")]
        listed = client.get("/notes").json()
    with Session(engine) as session:
        stored = list(session.scalars(select(Note.text).order_by(Note.id)))
    Base.metadata.drop_all(engine)
    engine.dispose()
    print(json.dumps({"created": created, "listed": listed, "stored": stored}))
""")


def run(root: Path, kind: str) -> dict:
    return run_app(root, kind, SCRIPT, "statelocal", warnings=("error::RuntimeWarning", "ignore::DeprecationWarning"))


WRITTEN = {"created": [201, 201], "listed": ["a", "b"], "stored": ["a", "b"]}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_hand_written_async_dependency_on_app_state_is_reused_and_the_routes_write(cli, project, shape, kind):
    root = tree(project, shape)
    document = cli.json("phase2", root, "-s", "notes.py", "--apply")
    found = handlers(document)
    assert {name: h["action"] for name, h in found.items()} == {"list_notes": "migrate", "add_note": "migrate"}, found
    text = (root / "notes.py").read_text(encoding="utf-8")
    assert "async def add_note(text: str, session: AsyncSessionDep):" in text, text
    assert "    await session.commit()\n" in text, text
    assert "get_async_db_session" not in (root / "db.py").read_text(encoding="utf-8")
    assert run(root, kind) == WRITTEN


def test_near_miss_more_work_beside_the_local_maker_still_blocks_with_am271(cli, project):
    root = tree(project, "lifespan", extra='    maker.kw["info"] = {"tenant": request.headers.get("x-tenant")}\n')
    found = handlers(cli.json("phase2", root, "-s", "notes.py"))["list_notes"]
    assert found["action"] == "blocked" and "AM271" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM271")]
    assert 'maker.kw["info"]' in reason, reason
    assert "maker = request.app.state.sessionmaker" not in reason and "parameter `request" not in reason, reason
    assert "generated async dependency" not in reason, reason


def test_without_an_async_dependency_am230_gives_code_that_written_as_given_is_reused(cli, project):
    # set in a startup handler: no shutdown place phase two pairs with it (a lifespan's stack it
    # writes itself, test_phase2_app_state_generated.py)
    root = tree(project, "startup", hand_written=False)
    found = handlers(cli.json("phase2", root, "-s", "notes.py"))["list_notes"]
    assert found["action"] == "blocked" and found["codes"] == ["AM230"], found
    reason = found["reasons"][0]
    dependency = re.search(r"`(async def \w+\(request: Request\): async with [^`]*)`", reason)
    alias = re.search(r"`(\w+ = Annotated\[AsyncSession, Depends\(\w+\)\])`", reason)
    assert dependency is not None and alias is not None, reason
    assert "`app.state.async_sessionmaker = async_sessionmaker(" in reason, reason
    # the advice, followed word for word: the async stack where the synchronous one is set, and the
    # dependency and alias as the message spells them, named in the configuration
    header, _, body = dependency.group(1).partition(": ")
    statement, _, handed = body.partition(": ")
    written = f"\n\n{header}:\n    {statement}:\n        {handed}\n\n\n{alias.group(1)}\n"
    (root / "db.py").write_text((root / "db.py").read_text(encoding="utf-8") + written, encoding="utf-8")
    main = (root / "main.py").read_text(encoding="utf-8")
    main = main.replace("    pass\n\n\n@app.on_event", f"    {ASYNC_START}\n\n\n@app.on_event").replace(
        "    pass\n    app.state.engine.dispose()", f"    {ASYNC_STOP}\n    app.state.engine.dispose()"
    )
    (root / "main.py").write_text(main, encoding="utf-8")
    name = re.match(r"async def (\w+)", header)
    assert name is not None
    (root / "pyproject.toml").write_text(
        f'[tool.async-migrate]\nasync-dependency = "{name.group(1)}"\nasync-alias = "{alias.group(1).split()[0]}"\n',
        encoding="utf-8",
    )
    document = cli.json("phase2", root, "-s", "notes.py", "--apply")
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "list_notes": "migrate", "add_note": "migrate"
    }, document["handlers"]
    assert run(root, "sqlite") == WRITTEN
