"""Session dependencies that disagree on committing (`get_db` beside `get_tx_session`, which opens
`SessionLocal.begin()`), in one router module.

Every route of the subsystem was blocked by AM240, also those reaching only `get_db`, and a unit
of work opening `SessionLocal` itself got AM278 ("cannot tell which sessionmaker") though there
is one. Now the routes whose dependencies agree move (with those reaching none), the others stay
synchronous with AM240 naming the dependency they reach and the one the async dependency copies;
when no group can move alone, a route reaching no dependency names the stack's blocker. The
migrated routes RUN on the three databases and the rows are read back.
"""

from __future__ import annotations

import pytest
from phase2_kit import run_app
from test_phase2_rules import apply, dedent, function, handler, run
from test_phase2_soundness import KINDS

DB = """
import os
from typing import Annotated, Iterator

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(engine, expire_on_commit=False)


def get_db() -> Iterator[Session]:
    with SessionLocal() as s:
        yield s


SessionDep = Annotated[Session, Depends(get_db)]


def get_tx_session() -> Iterator[Session]:
    with SessionLocal.begin() as session:
        yield session


TxSessionDep = Annotated[Session, Depends(get_tx_session)]
"""

MODELS = """
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "commit_routes_teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
"""

UOW = """
from db import SessionLocal
from models import Team


class UnitOfWork:
    def __init__(self, session_factory=SessionLocal):
        self.session_factory = session_factory

    def __enter__(self):
        self.session = self.session_factory()
        return self

    def __exit__(self, *exc):
        self.session.close()

    def team(self, team_id: int):
        return self.session.get(Team, team_id)
"""

API = """
from fastapi import APIRouter

from db import SessionDep, TxSessionDep
from models import Team
from uow import UnitOfWork

router = APIRouter()


@router.post("/plain", status_code=201)
def add_plain(name: str, session: SessionDep) -> dict:
    team = Team(name=name)
    session.add(team)
    session.commit()
    return {"id": team.id}


@router.get("/uow/{team_id}")
def read_team_uow(team_id: int) -> dict:
    uow = UnitOfWork()
    with uow:
        team = uow.team(team_id)
        return {"name": team.name if team else None}


@router.post("/tx", status_code=201)
def add_tx(name: str, session: TxSessionDep) -> dict:
    session.add(Team(name=name))
    return {"ok": True}
"""

MAIN = """
from fastapi import FastAPI

from api import router

app = FastAPI()
app.include_router(router)
"""


def files(api: str = API) -> dict[str, str]:
    return {"db.py": DB, "models.py": MODELS, "uow.py": UOW, "api.py": api, "main.py": MAIN}


def test_routes_on_the_agreeing_dependency_move_and_the_others_name_theirs(cli, project):
    root = project(files())
    document = apply(cli, root, subsystem="api.py")
    assert handler(document, "add_plain")["action"] == "migrate"
    assert handler(document, "read_team_uow")["action"] == "migrate", handler(document, "read_team_uow")
    kept = handler(document, "add_tx")
    assert kept["action"] == "blocked"
    (reason,) = kept["reasons"]
    assert reason.startswith("db.py:20: the route reaches `get_tx_session` (db.py:20), which commits"), reason
    assert "copies, for the subsystem's other routes, `get_db` (db.py:12), which does not commit" in reason, reason
    codes = {b["code"] for b in document["subsystem"]["blockers"]}
    assert codes == {"AM240"}, document["subsystem"]["blockers"]
    assert "async def add_plain(name: str, session: async_session_dependency) -> dict:" in function(
        root, "api.py", "add_plain"
    )
    assert "def add_tx(name: str, session: TxSessionDep) -> dict:" in function(root, "api.py", "add_tx")


def test_near_miss_a_route_reaching_both_blocks_the_stack_and_the_unit_of_work_names_it(cli, project):
    both = API.replace("def add_plain(name: str, session: SessionDep)", (
        "def add_plain(name: str, session: SessionDep, tx: TxSessionDep)"
    )).replace("def add_tx(name: str, session: TxSessionDep)", "def add_tx(name: str, session: TxSessionDep, s: SessionDep)")
    document = run(cli, project(files(both)), subsystem="api.py")
    assert {h["function"]: h["action"] for h in document["handlers"]} == {
        "add_plain": "blocked", "read_team_uow": "blocked", "add_tx": "blocked",
    }
    uow = " | ".join(handler(document, "read_team_uow")["reasons"])
    assert "cannot tell which sessionmaker" not in uow, uow
    assert "since the stack is blocked (AM240: db.py:12: the session dependencies disagree on committing" in uow, uow
    assert handler(document, "read_team_uow")["codes"] == ["AM240"], handler(document, "read_team_uow")


@pytest.mark.parametrize("kind", KINDS)
def test_the_moved_routes_write_and_the_kept_one_still_commits(cli, project, kind):
    root = project(files())
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
            made = client.post("/plain", params={"name": "core"}).json()
            tx = client.post("/tx", params={"name": "ops"}).status_code
            read = client.get(f"/uow/{made['id']}").json()
        with Session(db.engine) as s:
            names = sorted(s.scalars(select(Team.name)).all())
        asyncio.run(db.async_engine.dispose())
        Base.metadata.drop_all(db.engine)
        print(json.dumps({"tx": tx, "read": read, "names": names}))
        """
    )
    assert run_app(root, kind, script, pytest_env=True, timeout=180, warnings=("error::RuntimeWarning",)) == {
        "tx": 201, "read": {"name": "core"}, "names": ["core", "ops"],
    }
