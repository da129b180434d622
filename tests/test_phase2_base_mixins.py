"""Methods a model inherits from the class handed to its declarative base factory are project
methods: `Base = declarative_base(cls=OrmBase)` (or `mapper_registry.generate_base(cls=OrmBase)`)
gives every model OrmBase's methods, as `class Base(DeclarativeBase, OrmBase)` does. They were
taken for a library's calls (`User.get_by(db, ...)`: "cannot migrate, add it to call-mappings"),
blocking every route calling one; now they migrate with the route (awaited) and the migrated
routes write and read on each database."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from phase2_kit import KINDS, run_app
from test_phase2_app_state_expiry import CONFIG, DB, MAIN

MIXIN = """
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
{imports}


class OrmBase:
    @classmethod
    def get_by(cls, db: Session, *, field: str, value):
        return db.scalars(select(cls).where(getattr(cls, field) == value)).first()

    @classmethod
    def create(cls, db: Session, **values):
        obj = cls(**values)
        db.add(obj)
        db.commit()
        db.refresh(obj)
        return obj


{base}


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20))
"""
BASES = {
    "declarative_base": ("from sqlalchemy.orm import declarative_base", "Base = declarative_base(cls=OrmBase)"),
    "generate_base": (
        "from sqlalchemy.orm import registry",
        "mapper_registry = registry()\nBase = mapper_registry.generate_base(cls=OrmBase)",
    ),
    "DeclarativeBase": ("from sqlalchemy.orm import DeclarativeBase", "class Base(DeclarativeBase, OrmBase):\n    pass"),
}
ITEMS = """
from fastapi import APIRouter

from db import DbSession
from models import Item

router = APIRouter(prefix="/items")


@router.get("/{name}")
async def get_item(name: str, db: DbSession):
    item = Item.get_by(db, field="name", value=name)
    return {"name": item.name, "status": item.status}


@router.post("", status_code=201)
async def add_item(name: str, db: DbSession):
    item = Item.create(db, name=name, status="new")
    return {"id": item.id}
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
        found = client.get("/items/b").json()
    with Session(engine) as session:
        stored = [list(row) for row in session.execute(select(Item.name, Item.status).order_by(Item.id))]
    Base.metadata.drop_all(engine)
    engine.dispose()
    print(json.dumps({"created": created, "found": found, "stored": stored}))
""")


def migrate(cli, project, base: str) -> Path:  # type: ignore[no-untyped-def]
    imports, declared = BASES[base]
    root = project({
        "models.py": MIXIN.replace("{imports}", imports).replace("{base}", declared),
        "db.py": DB,
        "items.py": ITEMS,
        "main.py": MAIN.replace("{sync_options}", "").replace("{async_options}", ""),
        "pyproject.toml": CONFIG,
    })
    document = cli.json("phase2", root, "-s", "items.py", "--apply")
    handlers = {h["function"]: (h["action"], h["reasons"]) for h in document["handlers"]}
    assert {f: a for f, (a, _) in handlers.items()} == {"get_item": "migrate", "add_item": "migrate"}, handlers
    return root


@pytest.mark.parametrize("base", sorted(BASES))
@pytest.mark.parametrize("kind", KINDS)
def test_methods_of_the_base_factorys_class_migrate_and_the_routes_write(cli, project, kind, base):
    root = migrate(cli, project, base)
    assert "await Item.get_by(db, " in (root / "items.py").read_text(encoding="utf-8")
    assert "await db.commit()" in (root / "models.py").read_text(encoding="utf-8")
    assert run_app(root, kind, SCRIPT, "basemixins", warnings=("error::RuntimeWarning", "ignore::DeprecationWarning")) == {
        "created": [201, 201], "found": {"name": "b", "status": "new"}, "stored": [["a", "new"], ["b", "new"]],
    }
