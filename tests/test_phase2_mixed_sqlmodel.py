"""Phase two where one subsystem opens `sqlmodel.Session(engine)` and the others take plain
SQLAlchemy Sessions from `SessionLocal = sessionmaker(...)`.

- The async sessions are of the class the subsystem's own routes get: the plain subsystem,
  migrated first, gets SQLAlchemy's AsyncSession (SQLModel's would warn on every `execute`
  and put sqlmodel imports into plain code) although another router uses SQLModel's Session.
- Once the SQLModel subsystem has generated the async sessionmaker, it makes SQLModel's
  AsyncSession (`exec` for the SQLModel subsystem); the plain subsystem's migrated code is then
  rewritten to `sqlmodel.select` and `await db.exec(...)` for it, and annotated with SQLModel's
  AsyncSession, the class the sessionmaker makes.
- The async sessionmaker sets `expire_on_commit=False` where `SessionLocal` keeps the default
  True: a follow-up says so and what it changes (objects keep their loaded values after a
  commit; what another transaction commits is not reloaded). A sessionmaker written with
  `expire_on_commit=False` already gets no such follow-up (the near miss).

The migrated routes are RUN with TestClient on the generated stack (aiosqlite, and PostgreSQL
and MariaDB when a server answers).
"""

from __future__ import annotations

import pytest
from phase2_kit import run_app
from test_phase2_rules import apply, dedent, function, run
from test_phase2_soundness import KINDS

DB = """
import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def get_session():
    with Session(engine) as session:
        yield session
"""

MODELS = """
from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    __tablename__ = "mixed_users"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=255)


class Hero(SQLModel, table=True):
    __tablename__ = "mixed_heroes"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255)
"""

CRUD = """
from sqlalchemy.orm import Session

from models import User


def get_by_email(db: Session, *, email: str):
    return db.query(User).filter(User.email == email).first()


def create(db: Session, *, email: str) -> User:
    user = User(email=email)
    db.add(user)
    db.commit()
    db.refresh(user)
    return user
"""

USERS = """
from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.orm import Session

import crud
from db import get_db

router = APIRouter()


@router.post("/users")
def create_user(email: str, db: Session = Depends(get_db)):
    if crud.get_by_email(db, email=email):
        raise HTTPException(status_code=400, detail="exists")
    user = crud.create(db, email=email)
    return {"id": user.id, "email": user.email}


@router.get("/users/by-email")
def read_user(email: str, db: Session = Depends(get_db)):
    user = crud.get_by_email(db, email=email)
    if user is None:
        raise HTTPException(status_code=404)
    return {"id": user.id, "email": user.email}
"""

HEROES = """
from fastapi import APIRouter, Depends
from sqlmodel import Session, select

from db import get_session
from models import Hero

router = APIRouter()


@router.get("/heroes")
def list_heroes(session: Session = Depends(get_session)):
    return [h.name for h in session.exec(select(Hero).order_by(Hero.id)).all()]
"""

MAIN = """
from fastapi import FastAPI

from api.heroes import router as heroes
from api.users import router as users

app = FastAPI()
app.include_router(users)
app.include_router(heroes)
"""

EXPIRES = "the async sessionmaker sets expire_on_commit=False (`SessionLocal`: True, the default)"


def files(db: str = DB) -> dict[str, str]:
    return {
        "db.py": db, "models.py": MODELS, "crud.py": CRUD, "api/__init__.py": "",
        "api/users.py": USERS, "api/heroes.py": HEROES, "main.py": MAIN,
    }


def test_plain_subsystem_gets_sqlalchemys_async_session_beside_a_sqlmodel_one(cli, project):
    root = project(files())
    document = apply(cli, root, subsystem="api/users.py")
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_user": "migrate", "read_user": "migrate",
    }
    for path in ("crud.py", "api/users.py"):
        text = (root / path).read_text(encoding="utf-8")
        assert "from sqlalchemy.ext.asyncio import AsyncSession" in text, text
        assert "sqlmodel" not in text, text
    assert "(await db.scalars(select(User)" in function(root, "crud.py", "get_by_email")
    assert "class_=AsyncSession" not in (root / "db.py").read_text(encoding="utf-8")
    follow_ups = document["subsystem"]["follow_ups"]
    assert not [n for n in follow_ups if "SQLModel's AsyncSession" in n], follow_ups
    (note,) = [n for n in follow_ups if EXPIRES in n]
    assert "db.py:8:" in note and "does not see what another transaction committed" in note, note


def test_plain_code_on_a_sqlmodel_stack_is_annotated_with_the_session_it_gets(cli, project):
    # Both sides autoflush: the plain routes may then join the stack the SQLModel routes made.
    root = project(files(db=DB.replace("autocommit=False, autoflush=False, bind", "autocommit=False, bind")))
    apply(cli, root, subsystem="api/heroes.py")
    document = apply(cli, root, subsystem="api/users.py")
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_user": "migrate", "read_user": "migrate",
    }
    crud = (root / "crud.py").read_text(encoding="utf-8")
    assert "from sqlmodel.ext.asyncio.session import AsyncSession" in crud, crud
    assert "from sqlalchemy.ext.asyncio import AsyncSession" not in crud, crud
    assert function(root, "crud.py", "get_by_email") == dedent(
        """
        async def get_by_email(db: AsyncSession, *, email: str):
            return (await db.exec(select(User).where(User.email == email).limit(1))).first()
        """
    )
    users = (root / "api/users.py").read_text(encoding="utf-8")
    assert "from sqlmodel.ext.asyncio.session import AsyncSession" in users, users


def test_near_miss_plain_routes_keep_their_autoflush_off_the_sqlmodel_stack(cli, project):
    root = project(files())
    apply(cli, root, subsystem="api/heroes.py")
    document = run(cli, root, subsystem="api/users.py")
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "create_user": "blocked", "read_user": "blocked",
    }
    assert [b["code"] for b in document["subsystem"]["blockers"]] == ["AM326"]


def test_near_miss_a_sessionmaker_not_expiring_on_commit_gets_no_follow_up(cli, project):
    root = project(files(db=DB.replace("autoflush=False, bind", "autoflush=False, expire_on_commit=False, bind")))
    document = run(cli, root, subsystem="api/users.py")
    assert not [n for n in document["subsystem"]["follow_ups"] if "expire_on_commit" in n]


@pytest.mark.parametrize("kind", KINDS)
def test_migrated_plain_routes_run_on_their_own_session_class(cli, project, kind):
    root = project(files())
    apply(cli, root, subsystem="api/users.py")
    script = dedent(
        """
        import asyncio
        import json
        import typing

        from fastapi.testclient import TestClient
        from sqlmodel import SQLModel

        import crud
        import db
        from main import app

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with TestClient(app) as client:
            made = client.post("/users", params={"email": "ann@example.com"}).status_code
            again = client.post("/users", params={"email": "ann@example.com"}).status_code
            found = client.get("/users/by-email", params={"email": "ann@example.com"}).json()
            missing = client.get("/users/by-email", params={"email": "bob@example.com"}).status_code
            heroes = client.get("/heroes").json()
        annotated = typing.get_type_hints(crud.get_by_email)["db"]
        made_by = db.async_database_sessionmaker.class_
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        print(json.dumps({
            "made": made, "again": again, "found": found["email"], "missing": missing,
            "heroes": heroes, "annotated_is_made": annotated is made_by,
            "made_by": f"{made_by.__module__}.{made_by.__name__}",
        }))
        """
    )
    # SQLModel's AsyncSession warns on every `execute`: as an error, its class would fail the routes
    warnings = ("error::RuntimeWarning", "error:You probably want to use `session.exec()`:DeprecationWarning")
    assert run_app(root, kind, script, pytest_env=True, timeout=180, warnings=warnings) == {
        "made": 200, "again": 400, "found": "ann@example.com", "missing": 404,
        "heroes": [], "annotated_is_made": True,
        "made_by": "sqlalchemy.ext.asyncio.session.AsyncSession",
    }
