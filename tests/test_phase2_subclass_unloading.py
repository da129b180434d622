"""Phase two's soundness: a query's own `lazyload(...)` of a relationship only a mapped subclass
declares (`select(Item).options(selectin_polymorphic(Item, [Magazine]), lazyload(Magazine.publisher))`,
or `lazyload("*")`) leaves it to load on first read, whatever it declares (`lazy="joined"`), and an
eager option added beside it conflicts with it. The read, in code or by the response model,
blocks naming the query; the unchanged routes still answer. The routes are RUN.
"""

from __future__ import annotations

import os

import pytest
from sample import run_json
from test_phase2_subclass_relationships import ENGINE, MAIN, SERVICES

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
    publisher: Mapped[Publisher | None] = relationship(lazy="LAZY")
    __mapper_args__ = {"polymorphic_identity": "magazine"}
"""
ITEMS = """
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectin_polymorphic

from db import DbSession
from models import Item, Magazine
from services import item_out

router = APIRouter()


class PublisherOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class MagazineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    title: str
    publisher: PublisherOut | None


@router.get("/items")
async def list_items(db: DbSession):
    items = db.scalars(QUERY.order_by(Item.id)).all()
    return [item_out(i) for i in items]


@router.get("/own")
async def own_read(db: DbSession):
    items = db.scalars(QUERY.order_by(Item.id)).all()
    return [i.publisher.name for i in items if isinstance(i, Magazine) and i.publisher]


@router.get("/served", response_model=list[MagazineOut])
async def served(db: DbSession):
    return db.scalars(QUERY.where(Item.kind == "magazine")).all()


@router.get("/plain", response_model=list[MagazineOut])
async def plain(db: DbSession):
    return db.scalars(select(Magazine).options(OPTION)).all()
"""
SCRIPT = """
import json
from fastapi.testclient import TestClient
from db import SessionLocal, engine
from main import app
from models import Base, Book, Magazine, Publisher

Base.metadata.create_all(engine)
with SessionLocal() as s:
    s.add_all([Book(title="Earthsea"), Magazine(title="Locus", publisher=Publisher(name="Locus Pub"))])
    s.commit()
with TestClient(app, raise_server_exceptions=False) as client:
    answers = [client.get(p) for p in ("/items", "/own", "/served", "/plain")]
    print(json.dumps([[a.status_code, a.json() if a.status_code == 200 else a.text[:300]] for a in answers]))
"""
EXPECTED = [
    [200, [{"title": "Earthsea", "publisher": None}, {"title": "Locus", "publisher": "Locus Pub"}]],
    [200, ["Locus Pub"]],
    [200, [{"title": "Locus", "publisher": {"name": "Locus Pub"}}]],
    [200, [{"title": "Locus", "publisher": {"name": "Locus Pub"}}]],
]


@pytest.mark.parametrize("option", ["lazyload(Magazine.publisher)", 'lazyload("*")'])
@pytest.mark.parametrize("lazy", ["select", "joined", "selectin"])
def test_a_subclass_relationship_a_query_unloads_blocks_and_the_routes_still_answer(cli, project, tmp_path, lazy,
                                                                                    option):
    query = f"select(Item).options(selectin_polymorphic(Item, [Magazine]), {option})"
    root = project({
        "db.py": ENGINE, "models.py": MODELS.replace("LAZY", lazy), "services.py": SERVICES,
        "items.py": ITEMS.replace("QUERY", query).replace("OPTION", option), "main.py": MAIN,
    })

    def serve(name: str) -> object:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
               "DATABASE_URL": f"sqlite:///{tmp_path / name}"}
        return run_json(SCRIPT, cwd=root, env=env)

    assert serve("before.db") == EXPECTED
    document = cli.json("phase2", root, "-s", "items.py", "--apply")
    decisions = {h["function"]: h for h in document["handlers"]}
    for name, shown in (("list_items", "`item.publisher`"), ("own_read", "`i.publisher`"),
                        ("served", "response model field MagazineOut.publisher"),
                        ("plain", "response model field MagazineOut.publisher")):
        assert decisions[name]["action"] == "blocked", decisions[name]
        assert any(
            r.startswith(shown, r.index(": ") + 2) and "leaves to load on first read by its own `lazyload(...)`" in r
            for r in decisions[name]["reasons"]
        ), decisions[name]
    assert serve("after.db") == EXPECTED
