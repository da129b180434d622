"""`cls` in a classmethod of the model base (the class handed to `declarative_base(cls=...)`, a
`DeclarativeBase` subclass) stands for every mapped subclass it is called on, so a legacy
`db.query(cls)` there maps to `select(cls)` as `db.query(Item)` does. It was blocked with AM213
("cannot tell whether `cls` ... is a mapped class or a column expression") on every route calling
such a helper (fides' `OrmWrappedFidesBase.get_by`); now the helpers migrate with the routes and
the migrated routes write and read on each database. A classmethod of a class no declarative base
makes still blocks."""

from __future__ import annotations

from pathlib import Path

import pytest
from phase2_kit import KINDS, run_app
from test_phase2_app_state_expiry import CONFIG, DB, MAIN
from test_phase2_base_mixins import SCRIPT

METHODS = """
    @classmethod
    def get_by(cls: Type[T], db: Session, *, field: str, value) -> T | None:
        kwargs = {field: value}
        return db.query(cls).filter_by(**kwargs).first()

    @classmethod
    def get(cls: Type[T], db: Session, *, object_id) -> T | None:
        return db.query(cls).get(object_id)

    @classmethod
    def all(cls: Type[T], db: Session) -> list[T]:
        return db.query(cls).order_by(cls.id).all()

    @classmethod
    def create(cls, db: Session, **values):
        if db.query(cls).filter_by(name=values["name"]).first():
            raise ValueError(values["name"])
        obj = cls(**values)
        db.add(obj)
        db.commit()
        db.refresh(obj)
        return obj
"""
MODELS = {
    "declarative_base": """
from typing import Type, TypeVar

from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, declarative_base, mapped_column

T = TypeVar("T", bound="OrmBase")


class OrmBase:
{methods}

Base = declarative_base(cls=OrmBase)
""",
    "DeclarativeBase": """
from typing import Type, TypeVar

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

T = TypeVar("T", bound="Base")


class Base(DeclarativeBase):
{methods}
""",
}
ITEM = """

class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20))
"""
ITEMS = """
from fastapi import APIRouter, HTTPException

from db import DbSession
from models import Item

router = APIRouter(prefix="/items")


@router.get("/{name}")
def get_item(name: str, db: DbSession):
    item = Item.get_by(db, field="name", value=name)
    again = Item.get(db, object_id=item.id)
    return {"name": again.name, "status": item.status, "count": len(Item.all(db))}


@router.post("", status_code=201)
def add_item(name: str, db: DbSession):
    try:
        item = Item.create(db, name=name, status="new")
    except ValueError:
        raise HTTPException(409)
    return {"id": item.id}
"""
# posts a, b and a again: the third is refused by the migrated `db.query(cls)` check
TRIPLE = SCRIPT.replace('for n in ("a", "b")', 'for n in ("a", "b", "a")')


def migrate(cli, project, base: str) -> Path:  # type: ignore[no-untyped-def]
    root = project({
        "models.py": MODELS[base].replace("{methods}", METHODS) + ITEM,
        "db.py": DB,
        "items.py": ITEMS,
        "main.py": MAIN.replace("{sync_options}", "").replace("{async_options}", ", expire_on_commit=False"),
        "pyproject.toml": CONFIG,
    })
    document = cli.json("phase2", root, "-s", "items.py", "--apply")
    handlers = {h["function"]: (h["action"], h["reasons"]) for h in document["handlers"]}
    assert {f: a for f, (a, _) in handlers.items()} == {"get_item": "migrate", "add_item": "migrate"}, handlers
    return root


@pytest.mark.parametrize("base", sorted(MODELS))
@pytest.mark.parametrize("kind", KINDS)
def test_legacy_queries_on_cls_in_the_model_base_migrate_and_the_routes_write(cli, project, kind, base):
    root = migrate(cli, project, base)
    models = (root / "models.py").read_text(encoding="utf-8")
    assert "(await db.scalars(select(cls).filter_by(**kwargs).limit(1))).first()" in models
    # `get` and `all` may be other objects' methods called elsewhere: they get twins, the sync ones stay
    assert "(await db.get(cls, object_id))" in models and "select(cls).order_by(cls.id)" in models
    assert run_app(root, kind, TRIPLE, "basecls", warnings=("error::RuntimeWarning", "ignore::DeprecationWarning")) == {
        "created": [201, 201, 409], "found": {"name": "b", "status": "new", "count": 2},
        "stored": [["a", "new"], ["b", "new"]],
    }


def test_near_miss_cls_of_a_class_no_declarative_base_makes_still_blocks(cli, project):
    models = MODELS["declarative_base"].replace("{methods}", METHODS).replace(
        "Base = declarative_base(cls=OrmBase)", "Base = declarative_base()\n\n\nclass Item(Base, OrmBase):\n    pass"
    )
    root = project({
        "models.py": models.replace("class Item(Base, OrmBase):\n    pass", ITEM.strip().replace(
            "class Item(Base):", "class Item(Base, Finder):")).replace("class OrmBase:", "class Finder:"),
        "db.py": DB,
        "items.py": ITEMS,
        "main.py": MAIN.replace("{sync_options}", "").replace("{async_options}", ""),
        "pyproject.toml": CONFIG,
    })
    document = cli.json("phase2", root, "-s", "items.py")
    handler = next(h for h in document["handlers"] if h["function"] == "get_item")
    assert handler["action"] == "blocked" and "AM213" in handler["codes"], handler
    assert "cannot tell whether `cls` in `db.query(cls)` is a mapped class" in " ".join(handler["reasons"])
