"""A session dependency opening `Session(get_engine())`, the engine an `@lru_cache` factory returns.

Phase two blocked it with "no sessionmaker found ... define one"; a sessionmaker bound to
`get_engine()` is refused next (AM234), so that advice led into a second blocker. The first
message now names the engine factory as the cause and the fix that works: a module-level name for
the engine, which then migrates; the migrated routes RUN on the three databases.
"""

from __future__ import annotations

import pytest
from phase2_kit import run_app
from test_phase2_rules import apply, dedent, handler, run
from test_phase2_soundness import KINDS

DB = """
import os
from functools import lru_cache
from typing import Annotated, Iterator

from fastapi import Depends
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session


@lru_cache
def get_engine() -> Engine:
    return create_engine(os.environ["DATABASE_URL"])


def get_db() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as s:
        yield s


SessionDep = Annotated[Session, Depends(get_db)]
"""
# the fix the message gives
FIXED = DB.replace("def get_db()", "engine = get_engine()\n\n\ndef get_db()").replace(
    "Session(get_engine(),", "Session(engine,"
)

MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "engine_factory_teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
"""

API = """
from fastapi import APIRouter

from db import SessionDep
from models import Team

router = APIRouter()


@router.post("/teams", status_code=201)
def create_team(name: str, db: SessionDep) -> dict:
    db.add(Team(name=name))
    db.commit()
    return {"ok": True}
"""

MAIN = """
from fastapi import FastAPI

from api import router

app = FastAPI()
app.include_router(router)
"""


def files(db: str) -> dict[str, str]:
    return {"db.py": db, "models.py": MODELS, "api.py": API, "main.py": MAIN}


def test_a_session_on_an_engine_factory_names_the_factory_and_the_fix(cli, project):
    root = project(files(DB))
    document = run(cli, root, subsystem="api.py")
    found = handler(document, "create_team")
    assert found["action"] == "blocked" and found["codes"] == ["AM230"], found
    (reason,) = found["reasons"]
    line = 1 + (root / "db.py").read_text(encoding="utf-8").splitlines().index(
        "    with Session(get_engine(), expire_on_commit=False) as s:"
    )
    assert reason.startswith(f"db.py:{line}: `get_db` opens `Session(get_engine(), ...)` on the engine `get_engine()` returns"), reason
    assert "assign it to a module-level name (`engine = get_engine()`) and open `Session(engine, ...)`" in reason, reason
    assert "async-engine-factory" in reason and "define one" not in reason, reason


def test_near_miss_a_session_on_a_module_level_engine_migrates(cli, project):
    document = run(cli, project(files(FIXED)), subsystem="api.py")
    assert handler(document, "create_team")["action"] == "migrate", handler(document, "create_team")


@pytest.mark.parametrize("kind", KINDS)
def test_the_fix_the_message_gives_migrates_and_writes(cli, project, kind):
    root = project(files(FIXED))
    apply(cli, root, subsystem="api.py")
    script = dedent(
        """
        import asyncio
        import json

        from fastapi.testclient import TestClient
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        import db
        from main import app
        from models import Base, Team

        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        with TestClient(app) as client:
            made = client.post("/teams", params={"name": "core"}).status_code
        with Session(db.engine) as s:
            names = s.scalars(select(Team.name)).all()
        asyncio.run(db.async_engine.dispose())
        Base.metadata.drop_all(db.engine)
        print(json.dumps({"made": made, "names": names}))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",)) == {
        "made": 201, "names": ["core"],
    }
