"""Formatting a value that is text by its shape runs no model's `__repr__`.

A configuration helper the route calls, never handed the Session nor an ORM object, builds
`f"APP__{section.upper()}__{key.upper()}"`: AM250 took `key.upper()` for any object whose class
defines `__repr__`, a model's among them reading a relationship, and blocked the route ("the class
of `key.upper()` is unknown"). A str method's result, `type(x).__name__` and the like are text:
the route migrates and runs on each database. Formatting the objects themselves still blocks.
"""

from __future__ import annotations

from textwrap import dedent

import pytest
from phase2_kit import KINDS, run_app
from test_phase2_app_state_expiry import CONFIG, DB, MAIN

MODELS = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"))
    owner: Mapped[Owner | None] = relationship()

    def __repr__(self):
        return f"Item({self.name}, {self.owner})"
"""
CONF = """
import os


def env_key(section, key):
    return f"APP__{section.upper()}__{key.upper()}"


def get(section, key, default):
    value = os.environ.get(env_key(section, key), default)
    print(f"{type(value).__name__} {env_key.__name__}")
    return value
"""
ITEMS = """
from fastapi import APIRouter
from sqlalchemy import select

import conf
from db import DbSession
from models import Item

router = APIRouter(prefix="/items")


@router.get("")
async def list_items(db: DbSession):
    limit = int(conf.get("api", "page_size", "10"))
    return [i.name for i in db.scalars(select(Item).order_by(Item.id).limit(limit))]


@router.post("", status_code=201)
async def add_item(name: str, db: DbSession):
    db.add(Item(name=name, status="new"))
    db.commit()
    return {"added": name}
"""
FORMATS_ITEM = """

# an object no query of the route loads: no eager load to add
PINNED: dict[int, Item] = {}


@router.get("/first")
async def first_item(db: DbSession):
    count = len(db.scalars(select(Item.id)).all())
    return {"shown": conf.shown(PINNED[1]), "count": count}
"""
SHOWN = """

def shown(item):
    return f"{item}"
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
        created = [client.post("/items", params={"name": n}).status_code for n in ("a", "b", "c")]
        listed = client.get("/items").json()
    with Session(engine) as session:
        stored = list(session.scalars(select(Item.name).order_by(Item.id)))
    Base.metadata.drop_all(engine)
    engine.dispose()
    print(json.dumps({"created": created, "listed": listed, "stored": stored}))
""")


def tree(project, items: str = ITEMS, conf: str = CONF):  # type: ignore[no-untyped-def]
    return project({
        "models.py": MODELS, "db.py": DB, "conf.py": conf, "items.py": items,
        "main.py": MAIN.replace("{sync_options}", "").replace("{async_options}", ""), "pyproject.toml": CONFIG,
    })


@pytest.mark.parametrize("kind", KINDS)
def test_a_helper_formatting_text_lets_the_route_migrate_and_run(cli, project, kind):
    root = tree(project)
    document = cli.json("phase2", root, "-s", "items.py", "--apply")
    actions = {h["function"]: (h["action"], h["reasons"]) for h in document["handlers"]}
    assert {f: a for f, (a, _) in actions.items()} == {"list_items": "migrate", "add_item": "migrate"}, actions
    assert run_app(root, kind, SCRIPT, "formattedtext", extra_env={"APP__API__PAGE_SIZE": "2"}) == {
        "created": [201, 201, 201], "listed": ["a", "b"], "stored": ["a", "b", "c"],
    }


def test_near_miss_formatting_the_object_itself_still_blocks(cli, project):
    root = tree(project, ITEMS + FORMATS_ITEM, CONF + SHOWN)
    document = cli.json("phase2", root, "-s", "items.py")
    [first] = [h for h in document["handlers"] if h["function"] == "first_item"]
    assert first["action"] == "blocked" and "AM250" in first["codes"], first
    assert any("formatting `item`" in r and "Item.__repr__" in r for r in first["reasons"]), first
