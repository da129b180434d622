"""A SQLModel stack (`sessionmaker(engine, class_=sqlmodel.Session)`) with the transaction
dependency on the shared Session (`def get_tx_session(session: SessionDep): with
session.begin(): yield session`).

The generated stack makes SQLModel's AsyncSession, and the twin of the transaction dependency
was annotated with SQLAlchemy's: the module then imported `AsyncSession` from two places, and the
self-check blocked every route on it, telling the user to rename an import that was not theirs.
The twin now names the class the stack makes, and the route migrates and runs (aiosqlite,
psycopg): it commits on success and rolls back on an error. The self-check names two imports the
rewrite itself adds as its own inconsistency, and a clash with the module's own binding as before.
"""

from __future__ import annotations

import ast

import pytest
from phase2_kit import run_app
from test_phase2_rules import apply, dedent, function, handler, read
from test_phase2_soundness import KINDS

from async_migrate.codemods.phase2 import shadowed_imports

DB = """
import os
from typing import Annotated, Iterator

from fastapi import Depends
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine

engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(engine, class_=Session, expire_on_commit=False)


def get_session() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_tx_session(session: SessionDep) -> Iterator[Session]:
    with session.begin():
        yield session


TxSessionDep = Annotated[Session, Depends(get_tx_session)]
"""

MODELS = """
from typing import Optional

from sqlmodel import Field, SQLModel


class Team(SQLModel, table=True):
    __tablename__ = "sqlm_tx_teams"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
"""

API = """
from fastapi import APIRouter, HTTPException

from db import TxSessionDep
from models import Team

router = APIRouter()


@router.post("/teams", status_code=201)
def create_team(name: str, session: TxSessionDep) -> dict:
    team = Team(name=name)
    session.add(team)
    session.flush()
    if name == "bad":
        raise HTTPException(409, "bad name")
    return {"id": team.id}
"""

MAIN = """
from fastapi import FastAPI

from api import router

app = FastAPI()
app.include_router(router)
"""


def files(db: str = DB) -> dict[str, str]:
    return {"db.py": db, "models.py": MODELS, "api.py": API, "main.py": MAIN}


def test_the_twin_names_the_async_session_the_sqlmodel_stack_makes(cli, project):
    root = project(files())
    document = apply(cli, root, subsystem="api.py")
    assert handler(document, "create_team")["action"] == "migrate", handler(document, "create_team")
    text = read(root, "db.py")
    assert "from sqlmodel.ext.asyncio.session import AsyncSession" in text, text
    assert "from sqlalchemy.ext.asyncio import AsyncSession" not in text, text
    assert function(root, "db.py", "get_tx_session_async") == dedent(
        """
        async def get_tx_session_async(session: async_session_dependency) -> AsyncIterator[AsyncSession]:
            async with session.begin():
                yield session
        """
    )


def test_near_miss_a_plain_sqlalchemy_stack_keeps_sqlalchemys_async_session(cli, project):
    plain = DB.replace("from sqlalchemy.orm import sessionmaker\nfrom sqlmodel import Session, create_engine", (
        "from sqlalchemy import create_engine\nfrom sqlalchemy.orm import Session, sessionmaker"
    )).replace("class_=Session, ", "")
    root = project(files(plain))
    document = apply(cli, root, subsystem="api.py")
    assert handler(document, "create_team")["action"] == "migrate"
    text = read(root, "db.py")
    assert "from sqlalchemy.ext.asyncio import AsyncSession" in text, text
    assert "sqlmodel.ext.asyncio" not in text, text


@pytest.mark.parametrize("kind", KINDS[:2])
def test_the_migrated_route_commits_and_rolls_back_on_the_sqlmodel_stack(cli, project, kind):
    root = project(files())
    apply(cli, root, subsystem="api.py")
    script = dedent(
        """
        import asyncio
        import json
        import typing

        from fastapi.testclient import TestClient
        from sqlmodel import Session, SQLModel, select

        import db
        from main import app
        from models import Team

        SQLModel.metadata.drop_all(db.engine)
        SQLModel.metadata.create_all(db.engine)
        with TestClient(app) as client:
            ok = client.post("/teams", params={"name": "core"}).status_code
            bad = client.post("/teams", params={"name": "bad"}).status_code
        with Session(db.engine) as s:
            names = sorted(s.exec(select(Team.name)).all())
        annotated = typing.get_type_hints(db.get_tx_session_async)["session"]
        made_by = db.async_database_sessionmaker.class_
        asyncio.run(db.async_engine.dispose())
        SQLModel.metadata.drop_all(db.engine)
        print(json.dumps({"ok": ok, "bad": bad, "names": names, "annotated_is_made": annotated is made_by}))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",)) == {
        "ok": 201, "bad": 409, "names": ["core"], "annotated_is_made": True,
    }


def _clash(before: str, after: str) -> shadowed_imports.Clash:
    (found,) = shadowed_imports.clashes(ast.parse(before).body, ast.parse(after).body)
    return found


def test_two_imports_the_rewrite_adds_are_named_its_own_inconsistency():
    before = "engine = 1\n"
    after = (
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "from sqlmodel.ext.asyncio.session import AsyncSession\n" + before
    )
    message = shadowed_imports.describe(_clash(before, after))
    assert "from two places" in message and "phase two's own inconsistency" in message, message
    assert "Rename the module's own" not in message and "line" not in message, message


def test_near_miss_a_clash_with_the_modules_own_import_asks_to_rename_it():
    before = "from mylib import AsyncSession\n"
    after = "from sqlalchemy.ext.asyncio import AsyncSession\n" + before
    message = shadowed_imports.describe(_clash(before, after))
    assert "`from mylib import AsyncSession` (line 1)" in message and "Rename the module's own" in message, message
    assert "phase two's own" not in message, message
