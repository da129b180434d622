"""A router factory's routes (`def make_router(prefix, model): router = APIRouter(...);
@router.get(...) ...; return router`) are on a router of their own, whatever the name of the
local holding it: they are not served under another module's `router`, whose
`dependencies=[Depends(RequireUser())]` list phase two moves to the async twin with that
router's routes. Such a route was taken for one of them and blocked them all ("migrate them
together"). A factory router that module's router includes is served under it, and still blocks.
The migrated code is RUN on aiosqlite, PostgreSQL and MariaDB, and the row it writes read back.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sample import database, run_json
from test_phase2_rules import apply, dedent, handler, read, run

KINDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]
ENGINE = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(engine, expire_on_commit=False)


def get_db():
    with SessionLocal() as db:
        yield db
"""
DEPS = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db import get_db

SessionDep = Annotated[Session, Depends(get_db)]
"""
MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(200))
"""
FACTORY = """
from fastapi import APIRouter
from sqlalchemy import select

from deps import SessionDep


def make_router(prefix: str, model) -> APIRouter:
    router = APIRouter(prefix=prefix)

    @router.get("")
    def list_all(db: SessionDep):
        return [o.id for o in db.scalars(select(model))]

    return router
"""
# The same route added by a call on the router the factory builds, not decorated.
ADDED = FACTORY.replace('    @router.get("")\n    def list_all', '    def list_all').replace(
    "    return router", '    router.add_api_route("", list_all, methods=["GET"])\n    return router'
)
ADMIN = """
from fastapi import APIRouter, Depends, HTTPException

from deps import SessionDep
from models import Note, User


class RequireUser:
    def __call__(self, db: SessionDep) -> None:
        if db.get(User, 1) is None:
            raise HTTPException(status_code=403)


router = APIRouter(prefix="/admin", dependencies=[Depends(RequireUser())])


@router.post("/notes")
def add_note(msg: str, db: SessionDep):
    db.add(Note(message=msg))
    db.commit()
    return {"ok": True}
"""
MAIN = """
from fastapi import FastAPI

from models import Note
from routers import admin
from routers.factory import make_router

app = FastAPI()
app.include_router(admin.router)
app.include_router(make_router("/notes", Note))
"""
SERVE = """
import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from db import SessionLocal, engine
from main import app
from models import Base, Note, User

Base.metadata.drop_all(engine)
Base.metadata.create_all(engine)
with TestClient(app) as client:
    refused = client.post("/admin/notes", params={"msg": "no"}).status_code
    with SessionLocal() as s:
        s.add(User(id=1, name="ann"))
        s.commit()
    created = client.post("/admin/notes", params={"msg": "hi"}).status_code
    listed = client.get("/notes").json()
with SessionLocal() as s:
    stored = list(s.scalars(select(Note.message)))
print(json.dumps({"codes": [refused, created], "listed": len(listed), "stored": stored}))
"""


def build(project, admin: str = ADMIN, factory: str = FACTORY) -> Path:  # type: ignore[no-untyped-def]
    return project({
        "db.py": ENGINE, "deps.py": DEPS, "models.py": MODELS, "main.py": MAIN,
        "routers/__init__.py": "", "routers/factory.py": factory, "routers/admin.py": admin,
    })


def serve(root: Path, url: str) -> dict:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
           "DATABASE_URL": url}
    return run_json(dedent(SERVE), cwd=root, env=env, timeout=180, warnings=("error::RuntimeWarning",))


@pytest.mark.parametrize("factory", [FACTORY, ADDED], ids=["decorated", "add_api_route"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_factory_routers_route_is_not_one_of_another_modules_router(cli, project, kind, factory):
    # added by `router.add_api_route(...)`, the route was taken for one of any router's as well
    root = build(project, factory=factory)
    with database(kind, "factoryscope") as url:
        url = url or f"sqlite:///{root / 'app.db'}"
        document = apply(cli, root, subsystem="routers/admin.py")
        found = handler(document, "add_note")
        assert found["action"] == "migrate", found
        text = read(root, "routers/admin.py")
        assert "    async def __call__(self, db: async_session_dependency) -> None:" in text, text
        assert "    await db.commit()" in text, text
        assert read(root, "routers/factory.py") == dedent(factory) + "\n"
        assert serve(root, url) == {"codes": [403, 200], "listed": 1, "stored": ["hi"]}


def test_a_factory_router_the_modules_router_includes_is_served_under_it(cli, project):
    included = ADMIN.replace("from models import Note, User", "from models import Note, User\nfrom routers.factory import make_router")
    included += '\n\nrouter.include_router(make_router("/all", Note))\n'
    document = run(cli, build(project, included), subsystem="routers/admin.py")
    found = handler(document, "add_note")
    assert found["action"] == "blocked" and "AM219" in found["codes"], found
    assert any("make_router.<locals>.list_all stays on the synchronous Session" in r for r in found["reasons"]), found
