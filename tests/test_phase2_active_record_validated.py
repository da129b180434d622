"""Phase two on SQLModel active-record writes whose object comes from a validating classmethod:
`Power.model_validate(data).save(session)`, or `db_power: Power = Power.model_validate(data)`
then `db_power.save(session)` (`save` a `CRUDMixin` method adding and committing). The value flow
did not read `Model.model_validate(...)` as an instance of the model, so phase two blocked every
such create route ("a method of `db_power`, whose class the analysis cannot tell"; found by a
new-user trial) while `Power(name=...)` then `.save(session)` migrated. Now each migrates, `save`
with them (awaited), and the migrated routes are RUN: the rows are written."""

from __future__ import annotations

import pytest
from phase2_kit import run_app
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import KINDS

DB = """
import os

from sqlmodel import Session, create_engine

engine = create_engine(os.environ["DATABASE_URL"])


def get_session():
    with Session(engine) as session:
        yield session
"""
MODELS = """
from sqlmodel import Field, Session, SQLModel


class CRUDMixin:
    def save(self, session: Session):
        session.add(self)
        session.commit()
        session.refresh(self)
        return self


class PowerCreate(SQLModel):
    name: str = Field(max_length=64)
    level: int = 1


class Power(CRUDMixin, PowerCreate, table=True):
    __tablename__ = "validated_powers"
    id: int | None = Field(default=None, primary_key=True)
"""
POWERS = """
from fastapi import APIRouter, Depends
from sqlmodel import Session

from db import get_session
from models import Power, PowerCreate

router = APIRouter()


@router.post("/powers")
def create_power(power: PowerCreate, session: Session = Depends(get_session)):
    created = Power.model_validate(power).save(session)
    return {"id": created.id, "name": created.name}


@router.post("/powers/typed")
def create_power_typed(power: PowerCreate, session: Session = Depends(get_session)):
    db_power: Power = Power.model_validate(power)
    db_power.save(session)
    return {"id": db_power.id, "name": db_power.name}
"""
MAIN = """
from fastapi import FastAPI

from api.powers import router

app = FastAPI()
app.include_router(router)
"""
SCRIPT = """
import json

from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, func, select

import db
from main import app

SQLModel.metadata.drop_all(db.engine)
SQLModel.metadata.create_all(db.engine)
with TestClient(app) as client:
    first = client.post("/powers", json={"name": "regen", "level": 5}).json()
    second = client.post("/powers/typed", json={"name": "flight"}).json()
with Session(db.engine) as s:
    names = sorted(s.exec(select(models.Power.name)).all())
print(json.dumps({"first": first["name"], "second": second["name"], "names": names}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_validated_models_save_moves_to_its_twin_and_writes(cli, project, kind):
    root = project({
        "db.py": DB, "models.py": MODELS, "api/__init__.py": "", "api/powers.py": POWERS, "main.py": MAIN,
    })
    document = apply(cli, root, subsystem="api/powers.py")
    for name in ("create_power", "create_power_typed"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    text = (root / "api/powers.py").read_text(encoding="utf-8")
    assert "await Power.model_validate(power).save" in text, text
    assert "await db_power.save" in text, text
    result = run_app(root, kind, dedent(SCRIPT.replace("import db\n", "import db\nimport models\n")), prefix="validated")
    assert result == {"first": "regen", "second": "flight", "names": ["flight", "regen"]}
