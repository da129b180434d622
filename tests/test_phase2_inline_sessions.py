"""Phase two on Sessions opened inline on the engine: `with Session(engine) as session:`.

SQLModel's tutorial shape (only an engine, every route opening its own Session) and the same
beside a sessionmaker stack: migrated to `async with AsyncSession(async_engine) as session:`,
then RUN with TestClient on aiosqlite and PostgreSQL (psycopg's async driver), reading the
database back through a synchronous Session. Reads after a commit (expire_on_commit=True, the
default of both Session classes) get a refresh, also in a helper the Session is handed to.
The near misses stay synchronous with AM262 and the reason; a second run changes nothing.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from phase2_kit import run_app
from sample import database, run_python
from test_phase2_rules import apply, assert_parses, function, handler, read, run
from test_phase2_soundness import KINDS, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

HEROES = "api/heroes.py"
ENGINE_ONLY = """
import os

from sqlmodel import create_engine

engine = create_engine(os.environ["DATABASE_URL"])
"""
MODELS = """
from sqlmodel import Field, SQLModel


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
"""
ROUTES = """
from fastapi import APIRouter, HTTPException
from sqlmodel import Session, select

from db import engine
from models import Hero

router = APIRouter()


def store(session: Session, name: str) -> dict:
    hero = Hero(name=name)
    session.add(hero)
    session.commit()
    return {"id": hero.id, "name": hero.name}


@router.post("/heroes")
def create_hero(name: str):
    with Session(engine) as session:
        hero = Hero(name=name)
        session.add(hero)
        session.commit()
        return {"id": hero.id, "name": hero.name}


@router.post("/heroes/kept")
def create_kept(name: str):
    with Session(engine, expire_on_commit=False) as session:
        hero = Hero(name=name)
        session.add(hero)
        session.commit()
        return {"id": hero.id, "name": hero.name}


@router.post("/heroes/stored")
def create_stored(name: str):
    with Session(bind=engine) as session:
        return store(session, name)


@router.put("/heroes/{hero_id}")
def rename_hero(hero_id: int, name: str):
    with Session(engine) as session:
        hero = session.get(Hero, hero_id)
        if hero is None:
            raise HTTPException(404)
        hero.name = name
        session.commit()
        return {"id": hero.id, "name": hero.name}


@router.get("/heroes")
def list_heroes():
    with Session(engine) as session:
        return [hero.name for hero in session.exec(select(Hero).order_by(Hero.id)).all()]
"""
MAIN = """
from fastapi import FastAPI

from api.heroes import router

app = FastAPI()
app.include_router(router)
"""


def heroes_app(project, routes_text: str = ROUTES, db: str = ENGINE_ONLY) -> Path:  # type: ignore[no-untyped-def]
    return project({"db.py": db, "models.py": MODELS, "api/__init__.py": "", HEROES: routes_text, "main.py": MAIN})


def run_heroes(root: Path, kind: str, script: str) -> object:
    """`script` against main.app with `client` in scope, on a fresh database; its last line is JSON."""
    prelude = textwrap.dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import Hero

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        client = TestClient(app)
        client.__enter__()
        """
    )
    postlude = textwrap.dedent(
        """
        client.__exit__(None, None, None)
        if hasattr(db, "async_engine"):
            asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        db.engine.dispose()
        """
    )
    return run_app(root, kind, f"{prelude}\n{textwrap.dedent(script)}\n{postlude}", timeout=180)


SCRIPT = """
created = client.post("/heroes", params={"name": "Ann"})
kept = client.post("/heroes/kept", params={"name": "Bob"})
stored = client.post("/heroes/stored", params={"name": "Cid"})
renamed = client.put(f"/heroes/{created.json()['id']}", params={"name": "Zoe"})
missing = client.put("/heroes/999", params={"name": "Nobody"})
listed = client.get("/heroes").json()
with Session(db.engine) as s:
    stored_names = [h.name for h in s.exec(select(Hero).order_by(Hero.id)).all()]
print(json.dumps({
    "created": [created.status_code, created.json()["name"]],
    "kept": [kept.status_code, kept.json()["name"]],
    "stored": [stored.status_code, stored.json()["name"]],
    "renamed": [renamed.status_code, renamed.json()["name"]],
    "missing": missing.status_code,
    "listed": listed,
    "db": stored_names,
}))
"""
EXPECTED = {
    "created": [200, "Ann"], "kept": [200, "Bob"], "stored": [200, "Cid"], "renamed": [200, "Zoe"],
    "missing": 404, "listed": ["Zoe", "Bob", "Cid"], "db": ["Zoe", "Bob", "Cid"],
}


@pytest.mark.parametrize("kind", KINDS[:2])
def test_sqlmodel_tutorial_routes_move_to_asyncsession_on_the_async_engine_and_the_data_lands(cli, project, kind):
    root = heroes_app(project)
    assert run_heroes(root, "sqlite", SCRIPT) == EXPECTED  # the synchronous application, as a baseline
    document = apply(cli, root, subsystem=HEROES)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_hero": "migrate", "create_kept": "migrate", "create_stored": "migrate",
        "rename_hero": "migrate", "list_heroes": "migrate",
    }
    assert sorted(document["files_changed"]) == ["api/heroes.py", "db.py"]
    # The stack goes after the engine, with SQLModel's AsyncSession.
    db = read(root, "db.py")
    assert "async_engine = create_async_engine(_async_url(engine.url))" in db
    assert "from sqlmodel.ext.asyncio.session import AsyncSession" in db
    # expire_on_commit=True (the default, as written): reads after the commit are refreshed...
    assert function(root, HEROES, "create_hero") == textwrap.dedent(
        """\
        async def create_hero(name: str):
            async with AsyncSession(async_engine) as session:
                hero = Hero(name=name)
                session.add(hero)
                await session.commit()
                await session.refresh(hero)
                return {"id": hero.id, "name": hero.name}"""
    )
    # ... also in the helper the expiring Session is handed to ...
    assert "    await session.commit()\n    await session.refresh(hero)\n" in function(root, HEROES, "store")
    assert "async with AsyncSession(bind=async_engine) as session:" in function(root, HEROES, "create_stored")
    assert "        await session.commit()\n        if hero is not None:\n            await session.refresh(hero)\n" in function(
        root, HEROES, "rename_hero"
    )
    # ... and not where the Session keeps its objects, the keyword carried as written.
    kept = function(root, HEROES, "create_kept")
    assert "async with AsyncSession(async_engine, expire_on_commit=False) as session:" in kept
    assert "refresh" not in kept
    assert "(await session.exec(select(Hero).order_by(Hero.id))).all()" in function(root, HEROES, "list_heroes")
    heroes = read(root, HEROES)
    assert "from db import async_engine\n" in heroes and "Session(" not in heroes.replace("AsyncSession(", "")
    assert run_heroes(root, kind, SCRIPT) == EXPECTED
    # Idempotent: a second run finds nothing to change, and `check` is clean.
    again = run(cli, root, subsystem=HEROES)
    assert again["files_changed"] == [] and again["diff"] == ""
    assert {h["action"] for h in again["handlers"]} == {"unchanged"}
    assert cli("check", root).exit_code == 0


SQLALCHEMY_ROUTES = """
@router.post("/items")
def create_item(name: str):
    with Session(engine) as session:
        item = Item(name=name, owner_id=1)
        session.add(item)
        session.commit()
        return {"id": item.id, "name": item.name}


@router.get("/items/count")
def count_items():
    with Session(engine, autoflush=False) as session:
        return {"n": session.scalar(select(func.count(Item.id)))}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_a_sqlalchemy_session_on_the_sessionmakers_engine_moves_beside_the_stack(cli, service, kind):
    root = service({
        "api/items.py": routes(SQLALCHEMY_ROUTES).replace(
            "from db.engine import get_db_session", "from db.engine import engine, get_db_session"
        ),
    })
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_item": "migrate", "count_items": "migrate",
    }
    created = function(root, "api/items.py", "create_item")
    assert "async with AsyncSession(async_engine) as session:" in created
    assert "await session.commit()\n        await session.refresh(item)" in created
    assert "async with AsyncSession(async_engine, autoflush=False) as session:" in function(root, "api/items.py", "count_items")
    assert "from sqlalchemy.ext.asyncio import AsyncSession" in read(root, "api/items.py")
    result = serve(root, kind, """
        created = client.post("/items", params={"name": "pen"})
        counted = client.get("/items/count")
        with Sync() as s:
            names = list(s.scalars(select(Item.name)).all())
        print(json.dumps({"created": created.json()["name"], "count": counted.json(), "names": names}))
    """)
    assert result == {"created": "pen", "count": {"n": 1}, "names": ["pen"]}


# Each near miss: the route, and what its AM262 reason says.
NEAR_MISSES = {
    "outside a with": (
        """
        @router.get("/n")
        def n():
            session = Session(engine)
            try:
                return {"n": len(session.exec(select(Hero)).all())}
            finally:
                session.close()
        """,
        "opens its Session as `Session(...)` outside a `with` block",
    ),
    "a connection": (
        """
        @router.get("/n")
        def n():
            with engine.connect() as connection:
                with Session(bind=connection) as session:
                    return {"n": len(session.exec(select(Hero)).all())}
        """,
        "bound to `connection`, which phase two cannot follow to a module-level engine",
    ),
    "another engine": (
        """
        @router.get("/n")
        def n():
            with Session(reporting_engine) as session:
                return {"n": len(session.exec(select(Hero)).all())}
        """,
        "bound to `reporting_engine` (db.reporting_engine), not to `engine` (db.engine), the engine the async engine",
    ),
    "an engine made at run time": (
        """
        @router.get("/n")
        def n():
            with Session(make_engine()) as session:
                return {"n": len(session.exec(select(Hero)).all())}
        """,
        "bound to `make_engine()`, which phase two cannot follow",
    ),
    "binds": (
        """
        @router.get("/n")
        def n():
            with Session(binds={Hero: engine}) as session:
                return {"n": len(session.exec(select(Hero)).all())}
        """,
        "with `binds=`, which maps mappers or tables to engines of their own",
    ),
    "twophase": (
        """
        @router.get("/n")
        def n():
            with Session(engine, twophase=True) as session:
                return {"n": len(session.exec(select(Hero)).all())}
        """,
        "with `twophase=`, which asks for two-phase commit",
    ),
    "unread keywords": (
        """
        OPTIONS = {"autoflush": False}


        @router.get("/n")
        def n():
            with Session(engine, **OPTIONS) as session:
                return {"n": len(session.exec(select(Hero)).all())}
        """,
        "with `**OPTIONS`, which phase two cannot read",
    ),
}
NEAR_MISS_HEAD = """
from fastapi import APIRouter
from sqlmodel import Session, select

from db import engine, make_engine, reporting_engine
from models import Hero

router = APIRouter()


@router.get("/heroes")
def list_heroes():
    with Session(engine) as session:
        return [hero.name for hero in session.exec(select(Hero)).all()]
"""
TWO_ENGINES = ENGINE_ONLY + """
reporting_engine = create_engine(os.environ["DATABASE_URL"])


def make_engine():
    return create_engine(os.environ["DATABASE_URL"])
"""
# The same, with SQLModel's session dependency on `engine`: the stack stands for that engine.
TWO_ENGINES_AND_A_DEPENDENCY = (TWO_ENGINES + """

def get_session() -> Iterator[Session]:
    with Session(engine) as session:
        yield session
""").replace(
    "from sqlmodel import create_engine", "from collections.abc import Iterator\n\nfrom sqlmodel import Session, create_engine"
)


@pytest.mark.parametrize("shape", sorted(NEAR_MISSES))
def test_near_misses_stay_synchronous_with_the_reason(cli, project, shape):
    body, reason = NEAR_MISSES[shape]
    source = textwrap.dedent(NEAR_MISS_HEAD).strip("\n") + "\n\n\n" + textwrap.dedent(body).strip("\n") + "\n"
    root = heroes_app(project, source, TWO_ENGINES_AND_A_DEPENDENCY)
    document = apply(cli, root, subsystem=HEROES)
    found = handler(document, "n")
    assert found["action"] == "blocked" and "AM262" in found["codes"], found
    assert any(reason in text for text in found["reasons"]), found["reasons"]
    assert handler(document, "list_heroes")["action"] == "migrate"  # the stack's engine, in a with
    assert function(root, HEROES, "n").startswith("def n():")  # left as it was
    if shape == "twophase":
        return  # SQLite has no two-phase commit: the unchanged route fails there as it did before
    result = run_heroes(root, "sqlite", """
        print(json.dumps({"n": client.get("/n").json(), "heroes": client.get("/heroes").json()}))
    """)
    assert result == {"n": {"n": 0}, "heroes": []}


def test_two_engines_opened_inline_and_no_stack_block_with_both_named(cli, project):
    source = textwrap.dedent(NEAR_MISS_HEAD).strip("\n") + textwrap.dedent(
        """


        @router.get("/report")
        def report():
            with Session(reporting_engine) as session:
                return {"n": len(session.exec(select(Hero)).all())}
        """
    )
    root = heroes_app(project, source, TWO_ENGINES)
    document = run(cli, root, subsystem=HEROES)
    assert {h["action"] for h in document["handlers"]} == {"blocked"}
    assert any(
        "Sessions are opened on several engines, `db.engine`, `db.reporting_engine`" in text
        for text in document["subsystem"]["global_blockers"]
    ), document["subsystem"]["global_blockers"]
    assert document["files_changed"] == []


# A parameter object the expiring Session's commit expires: no refresh is possible there.
EXPIRED_PARAM = """
def rename(session: Session, hero: Hero, name: str) -> str:
    hero.name = name
    session.commit()
    return hero.name


@router.put("/heroes/{hero_id}")
def rename_hero(hero_id: int, name: str):
    with Session(engine) as session:
        return {"name": rename(session, session.get(Hero, hero_id), name)}


@router.put("/heroes/{hero_id}/kept")
def rename_kept(hero_id: int, name: str):
    with Session(engine, expire_on_commit=False) as session:
        return {"name": rename(session, session.get(Hero, hero_id), name)}
"""


def test_a_read_the_expiring_sessions_commit_expires_where_no_refresh_fits_blocks(cli, project):
    source = ROUTES.split("\n\n\ndef store")[0] + "\n\n\n" + textwrap.dedent(EXPIRED_PARAM).strip("\n") + "\n"
    root = heroes_app(project, source)
    document = apply(cli, root, subsystem=HEROES)
    found = handler(document, "rename_hero")
    assert found["action"] == "blocked" and found["codes"] == ["AM248"], found
    assert "the Session opened at api/heroes.py:" in found["reasons"][0]
    assert "`hero.name` is read after `session.commit()`" in found["reasons"][0]
    # the helper receives an expiring Session from one route: it counts as expiring for both
    assert handler(document, "rename_kept")["action"] == "blocked"
    assert document["files_changed"] == []
    assert_parses(root, [HEROES])


# `with session.begin():` commits when the block ends, which `expired_reads` does not see as a
# commit: a read after it, on a Session that expires, blocks; one that keeps its objects moves.
BEGIN_BLOCKS = """
from fastapi import APIRouter
from sqlmodel import Session, select

from db import engine
from models import Hero

router = APIRouter()


def store(session: Session, name: str) -> int:
    with session.begin():
        hero = Hero(name=name)
        session.add(hero)
    return hero.id


@router.post("/heroes/expired")
def create_expired(name: str):
    with Session(engine) as session:
        with session.begin():
            hero = Hero(name=name)
            session.add(hero)
        return {"id": hero.id}


@router.post("/heroes/helper")
def create_through_helper(name: str):
    with Session(engine) as session:
        return {"id": store(session, name)}


@router.post("/heroes/kept")
def create_kept(name: str):
    with Session(engine, expire_on_commit=False) as session:
        with session.begin():
            hero = Hero(name=name)
            session.add(hero)
        return {"id": hero.id, "name": hero.name}


@router.post("/heroes/counted")
def create_counted(name: str):
    with Session(engine) as session, session.begin():
        session.add(Hero(name=name))
    with Session(engine) as session:
        return {"n": len(session.exec(select(Hero)).all()), "name": name}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_a_read_after_a_begin_block_of_an_expiring_session_blocks_and_the_rest_runs(cli, project, kind):
    root = heroes_app(project, BEGIN_BLOCKS)
    document = apply(cli, root, subsystem=HEROES)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_expired": "blocked", "create_through_helper": "blocked",
        "create_kept": "migrate", "create_counted": "migrate",
    }
    for name, line in (("create_expired", "`hero.id` is read after the `session.begin()` block"),
                       ("create_through_helper", "`hero.id` is read after the `session.begin()` block")):
        found = handler(document, name)
        assert found["codes"] == ["AM248"], found
        assert line in found["reasons"][0] and "keeps expire_on_commit=True" in found["reasons"][0]
    counted = function(root, HEROES, "create_counted")
    assert "async with AsyncSession(async_engine) as session, session.begin():" in counted
    assert "async with AsyncSession(async_engine, expire_on_commit=False) as session:\n        async with session.begin():" in (
        function(root, HEROES, "create_kept")
    )
    result = run_heroes(root, kind, """
        kept = client.post("/heroes/kept", params={"name": "Ann"}).json()
        counted = client.post("/heroes/counted", params={"name": "Bob"}).json()
        expired = client.post("/heroes/expired", params={"name": "Cid"}).status_code
        with Session(db.engine) as s:
            names = sorted(h.name for h in s.exec(select(Hero)).all())
        print(json.dumps({"kept": kept["name"], "counted": counted, "expired": expired, "names": names}))
    """)
    assert result == {"kept": "Ann", "counted": {"n": 2, "name": "Bob"}, "expired": 200, "names": ["Ann", "Bob", "Cid"]}


# The SQLModel tutorial as written: one module, the engine, `@app` routes, and `Session(engine)`.
TUTORIAL = """
import os

from fastapi import FastAPI
from sqlmodel import Field, Session, SQLModel, create_engine, select


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    secret_name: str
    age: int | None = Field(default=None, index=True)


connect_args = {"check_same_thread": False} if os.environ["DATABASE_URL"].startswith("sqlite") else {}
engine = create_engine(os.environ["DATABASE_URL"], connect_args=connect_args)

app = FastAPI()


@app.post("/heroes/")
def create_hero(hero: Hero):
    with Session(engine) as session:
        session.add(hero)
        session.commit()
        session.refresh(hero)
        return hero


@app.get("/heroes/")
def read_heroes():
    with Session(engine) as session:
        heroes = session.exec(select(Hero)).all()
        return heroes
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_the_sqlmodel_tutorial_in_one_module_migrates_and_serves(cli, project, kind):
    root = project({"main.py": TUTORIAL})
    document = apply(cli, root, subsystem="main.py")
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_hero": "migrate", "read_heroes": "migrate",
    }
    text = read(root, "main.py")
    assert text.index("engine = create_engine(") < text.index("async_engine = create_async_engine(") < text.index(
        "async def create_hero"
    )
    assert "    async with AsyncSession(async_engine) as session:\n        session.add(hero)\n        await session.commit()\n" in text
    script = """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import main

        SQLModel.metadata.drop_all(main.engine)
        SQLModel.metadata.create_all(main.engine)
        with TestClient(main.app) as client:
            created = client.post("/heroes/", json={"name": "Deadpond", "secret_name": "Dive Wilson"}).json()
            listed = client.get("/heroes/").json()
        with Session(main.engine) as s:
            stored = [(h.id, h.name) for h in s.exec(select(main.Hero)).all()]
        asyncio.run(main.async_engine.dispose())
        SQLModel.metadata.drop_all(main.engine)
        print(json.dumps({"created": created, "listed": listed, "stored": stored}))
    """
    with database(kind) as url:
        env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": url or f"sqlite:///{root / 'app.db'}"}
        result = run_python(textwrap.dedent(script), cwd=root, env=env, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    hero = {"id": 1, "name": "Deadpond", "secret_name": "Dive Wilson", "age": None}
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"created": hero, "listed": [hero], "stored": [[1, "Deadpond"]]}
    assert run(cli, root, subsystem="main.py")["diff"] == ""
