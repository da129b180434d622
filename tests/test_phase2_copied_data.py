"""A schema validated from a copy of a column's value (`Meta.model_validate(deepcopy(item.meta or
{}))`) reads no ORM object: a `mode="before"` validator on the schema, in a helper handed the
object, made phase two block the route as unverified (AM247), though nothing there can load
lazily. The route now migrates and runs on each database."""

from __future__ import annotations

from textwrap import dedent

import pytest
from phase2_kit import KINDS, run_app
from test_phase2_app_state_expiry import CONFIG, DB, MAIN

MODELS = """
from sqlalchemy import JSON, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20))
    meta: Mapped[dict | None] = mapped_column(JSON)
"""
SCHEMAS = """
from copy import deepcopy

from pydantic import BaseModel, model_validator


class Meta(BaseModel):
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def normalize(cls, data):
        return {"description": str(data.get("description", "")).strip()}


def describe(current):
    return Meta.model_validate(deepcopy(current.meta or {})).model_dump()
"""
ITEMS = """
from fastapi import APIRouter
from sqlalchemy import select

from db import DbSession
from models import Item
from schemas import describe

router = APIRouter(prefix="/items")


@router.get("")
async def list_items(db: DbSession):
    return [describe(i) for i in db.scalars(select(Item).order_by(Item.id))]


@router.post("", status_code=201)
async def add_item(name: str, db: DbSession):
    db.add(Item(name=name, status="new", meta={"description": f" {name} "}))
    db.commit()
    return {"added": name}
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
    with Session(engine) as session:
        stored = list(session.scalars(select(Item.name).order_by(Item.id)))
    Base.metadata.drop_all(engine)
    engine.dispose()
    print(json.dumps({"created": created, "listed": listed, "stored": stored}))
""")


@pytest.mark.parametrize("kind", KINDS)
def test_a_schema_validated_from_a_copied_column_value_migrates_and_runs(cli, project, kind):
    root = project({
        "models.py": MODELS, "schemas.py": SCHEMAS, "db.py": DB, "items.py": ITEMS,
        "main.py": MAIN.replace("{sync_options}", "").replace("{async_options}", ""), "pyproject.toml": CONFIG,
    })
    document = cli.json("phase2", root, "-s", "items.py", "--apply")
    actions = {h["function"]: (h["action"], h["reasons"]) for h in document["handlers"]}
    assert {f: a for f, (a, _) in actions.items()} == {"list_items": "migrate", "add_item": "migrate"}, actions
    assert run_app(root, kind, SCRIPT, "copieddata") == {
        "created": [201, 201], "listed": [{"description": "a"}, {"description": "b"}], "stored": ["a", "b"],
    }
