"""A relationship only a mapped subclass declares, read on the rows of a query of its base whose
subclass columns load with it (`select(Item).options(selectin_polymorphic(Item, [Magazine]))`, or
`"polymorphic_load": "inline"` in the subclass's `__mapper_args__`): those load the subclass's
columns, not its relationships, so `item.publisher` on a Magazine row still loads lazily. Before,
phase two took the polymorphic load for the relationship too and migrated the route with no eager
load of it: MissingGreenlet at run time. It now adds `selectinload(Magazine.publisher)` beside the
polymorphic load, which SQLAlchemy applies to the subclass's rows; without a polymorphic load the
route stays blocked (AM260)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sample import run_python

ENGINE = """
import os
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ["DATABASE_URL"])
SessionLocal = sessionmaker(engine, expire_on_commit=False)


def get_db() -> Iterator[Session]:
    with SessionLocal() as db:
        yield db


DbSession = Annotated[Session, Depends(get_db)]
"""
MODELS = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Publisher(Base):
    __tablename__ = "publishers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(50))
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "item"}


class Book(Item):
    __mapper_args__ = {"polymorphic_identity": "book"}


class Magazine(Item):
    publisher_id: Mapped[int | None] = mapped_column(ForeignKey("publishers.id"), default=None)
    publisher: Mapped[Publisher | None] = relationship()
    __mapper_args__ = {"polymorphic_identity": "magazine"{load}}
"""
SERVICES = """
from models import Item, Magazine


def item_out(item: Item) -> dict:
    out = {"title": item.title, "publisher": None}
    if isinstance(item, Magazine) and item.publisher is not None:
        out["publisher"] = item.publisher.name
    return out
"""
ITEMS = """
from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import selectin_polymorphic

from db import DbSession
from models import Item, Magazine
from services import item_out

router = APIRouter()


@router.get("/items")
async def list_items(db: DbSession):
    items = db.scalars({query}.order_by(Item.id)).all()
    return [item_out(i) for i in items]


@router.get("/own")
async def own_read(db: DbSession):
    items = db.scalars({query}.order_by(Item.id)).all()
    return [i.publisher.name for i in items if isinstance(i, Magazine) and i.publisher]
"""
MAIN = """
from fastapi import FastAPI

import items

app = FastAPI()
app.include_router(items.router)
"""
SELECTIN = "select(Item).options(selectin_polymorphic(Item, [Magazine]))"
SHAPES = {
    "selectin_polymorphic": (SELECTIN, ""),
    "polymorphic_load_inline": ("select(Item)", ', "polymorphic_load": "inline"'),
}


def tree(project, query: str, load: str) -> Path:  # type: ignore[no-untyped-def]
    return project({
        "db.py": ENGINE, "models.py": MODELS.replace("{load}", load), "services.py": SERVICES,
        "items.py": ITEMS.replace("{query}", query), "main.py": MAIN,
    })


def actions(document: dict) -> dict[str, tuple[str, list[str]]]:
    return {h["function"]: (h["action"], h["codes"]) for h in document["handlers"]}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_subclass_relationship_gets_its_eager_load_and_the_migrated_routes_run(cli, project, tmp_path, shape):
    root = tree(project, *SHAPES[shape])
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    document = cli.json("phase2", root, "-s", "items.py", "--apply")
    assert {name: action for name, (action, _) in actions(document).items()} == {
        "list_items": "migrate", "own_read": "migrate"
    }, document["handlers"]
    text = (root / "items.py").read_text(encoding="utf-8")
    assert text.count("selectinload(Magazine.publisher)") == 2, text
    script = """
import json
from fastapi.testclient import TestClient
from db import SessionLocal, engine
from main import app
from models import Base, Book, Magazine, Publisher

Base.metadata.create_all(engine)
with SessionLocal() as s:
    s.add_all([Book(title="Earthsea"), Magazine(title="Locus", publisher=Publisher(name="Locus Pub"))])
    s.commit()
with TestClient(app) as client:
    print(json.dumps([client.get("/items").json(), client.get("/own").json()]))
"""
    result = run_python(script, cwd=root, env=env, warnings=("error::RuntimeWarning",))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        [{"title": "Earthsea", "publisher": None}, {"title": "Locus", "publisher": "Locus Pub"}],
        ["Locus Pub"],
    ]
    assert cli.json("check", root)["findings"] == []


def test_near_miss_without_a_polymorphic_load_the_route_stays_blocked(cli, project):
    found = actions(cli.json("phase2", tree(project, "select(Item)", ""), "-s", "items.py"))
    assert found["list_items"][0] == "blocked" and set(found["list_items"][1]) == {"AM260"}, found
    assert found["own_read"] == ("blocked", ["AM260"]), found
