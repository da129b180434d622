"""Columns a query leaves unloaded, on a model its module imports through a package's re-export
(`from models import Product`, `models/__init__.py` importing it from `models/catalogue.py`), as
most real layouts do.

Phase two read the `load_only(Product.name)` / `defer(Product.price)` of such a query as naming
no class of the object's, so a route reading `product.price` migrated and raised MissingGreenlet
on every request: it now blocks (AM251) naming the option, and one whose `load_only` names the
column still migrates and answers the same (RUN on SQLite, PostgreSQL and MariaDB).

`check` matched the objects of an `async def` route's AsyncSession queries against the model
classes as written, so with a re-exported model it judged none of their deferred columns,
subclass-only columns or model code (a hybrid reading a relationship, an association proxy): no
findings over routes answering 500. It also never read a query's `load_only`/`defer`, nor a
response model field naming a deferred, narrowed or subclass-only column. Each is AM314 now;
and a deferred column a helper reads on an object whose query undefers it (phase two's own
output) is no longer reported.
"""

from __future__ import annotations

import os

import pytest
from sample import database, run_json
from test_phase2_soundness import KINDS

MODELS = """
from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Supplier(Base):
    __tablename__ = "suppliers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    notes: Mapped[str | None] = mapped_column(Text, deferred=True)


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(50))
    price: Mapped[int] = mapped_column()
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    supplier: Mapped[Supplier] = relationship()
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "product"}

    @hybrid_property
    def supplier_name(self) -> str:
        return self.supplier.name


class Book(Product):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    isbn: Mapped[str] = mapped_column(String(20))
    __mapper_args__ = {"polymorphic_identity": "book"}
"""
PACKAGE = """
from models.catalogue import Base, Book, Product, Supplier

__all__ = ["Base", "Book", "Product", "Supplier"]
"""
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
ITEMS = """
from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import defer, load_only

from db import DbSession
from models import Product

router = APIRouter()


@router.get("/narrowed")
def narrowed(db: DbSession):
    product = db.scalars(select(Product).where(Product.id == 1).options(load_only(Product.name))).one()
    return {"name": product.name, "price": product.price}


@router.get("/deferred")
def deferred_price(db: DbSession):
    products = db.scalars(select(Product).options(defer(Product.price)).order_by(Product.id)).all()
    return [{"name": p.name, "price": p.price} for p in products]


@router.get("/named")
def named(db: DbSession):
    product = db.scalars(select(Product).where(Product.id == 1).options(load_only(Product.name, Product.price))).one()
    return {"name": product.name, "price": product.price}
"""
MAIN = """
from fastapi import FastAPI

import items

app = FastAPI()
app.include_router(items.router)
"""
SCRIPT = """
import json
from fastapi.testclient import TestClient
from db import SessionLocal, engine
from main import app
from models import Base, Book, Product, Supplier

Base.metadata.drop_all(engine)
Base.metadata.create_all(engine)
with SessionLocal() as s:
    acme = Supplier(name="Acme", notes="late")
    s.add_all([Book(name="Dune", price=10, isbn="9780441013593", supplier=acme),
               Product(name="Widget", price=5, supplier=acme)])
    s.commit()
with TestClient(app, raise_server_exceptions=False) as client:
    answers = [client.get(p) for p in ("/narrowed", "/deferred", "/named")]
    print(json.dumps([[a.status_code, a.json() if a.status_code == 200 else a.text[:300]] for a in answers]))
Base.metadata.drop_all(engine)
engine.dispose()
"""
EXPECTED = [
    [200, {"name": "Dune", "price": 10}],
    [200, [{"name": "Dune", "price": 10}, {"name": "Widget", "price": 5}]],
    [200, {"name": "Dune", "price": 10}],
]


def _files(items: str = ITEMS) -> dict[str, str]:
    return {"db.py": ENGINE, "models/__init__.py": PACKAGE, "models/catalogue.py": MODELS, "items.py": items,
            "main.py": MAIN}


@pytest.mark.parametrize("kind", KINDS)
def test_a_column_a_narrowing_option_leaves_out_blocks_on_a_re_exported_model_and_the_routes_answer(
    cli, project, tmp_path, kind
):
    root = project(_files())
    with database(kind, prefix="am_reexp") as url:
        def serve() -> object:
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(root),
                   "DATABASE_URL": url or f"sqlite:///{tmp_path / 'shop.db'}"}
            return run_json(SCRIPT, cwd=root, env=env)

        assert serve() == EXPECTED
        document = cli.json("phase2", root, "-s", "items.py", "--apply")
        decisions = {h["function"]: h for h in document["handlers"]}
        for name, option in (("narrowed", "`load_only(Product.name)` in narrowed"),
                             ("deferred_price", "`defer(Product.price)` in deferred_price")):
            found = decisions[name]
            assert found["action"] == "blocked" and found["codes"] == ["AM251"], found
            assert option in found["reasons"][0], found
        assert decisions["named"]["action"] == "migrate", decisions["named"]
        assert "async def named(" in (root / "items.py").read_text()
        assert serve() == EXPECTED


HAND = """
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import defer, load_only, selectinload, undefer

from models import Book, Product, Supplier
from services import notes_of

engine = create_async_engine("sqlite+aiosqlite://")
maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_db():
    async with maker() as db:
        yield db


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    price: int


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    isbn: str


class SupplierOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    notes: str | None


router = APIRouter()


@router.get("/notes")
async def notes(db: AsyncSession = Depends(get_db)):
    supplier = await db.get(Supplier, 1)
    return {"notes": supplier.notes}


@router.get("/isbn")
async def isbn(db: AsyncSession = Depends(get_db)):
    product = (await db.scalars(select(Product).where(Product.id == 1))).one()
    return {"isbn": product.isbn if isinstance(product, Book) else None}


@router.get("/hybrid")
async def hybrid(db: AsyncSession = Depends(get_db)):
    product = await db.get(Product, 1)
    return {"supplier": product.supplier_name}


@router.get("/narrowed")
async def narrowed(db: AsyncSession = Depends(get_db)):
    product = (await db.scalars(select(Product).options(load_only(Product.name)))).first()
    return {"price": product.price}


@router.get("/served", response_model=list[ProductOut])
async def served(db: AsyncSession = Depends(get_db)):
    return (await db.scalars(select(Product).options(defer(Product.price)))).all()


@router.get("/served-notes", response_model=SupplierOut)
async def served_notes(db: AsyncSession = Depends(get_db)):
    return await db.get(Supplier, 1)


@router.get("/served-books", response_model=list[BookOut])
async def served_books(db: AsyncSession = Depends(get_db)):
    return (await db.scalars(select(Product))).all()


@router.get("/helper")
async def helper(db: AsyncSession = Depends(get_db)):
    supplier = (await db.scalars(select(Supplier).where(Supplier.id == 1))).one()
    return {"notes": notes_of(supplier)}
"""
NEAR = """
@router.get("/notes")
async def notes(db: AsyncSession = Depends(get_db)):
    supplier = await db.get(Supplier, 1, options=[undefer(Supplier.notes)])
    return {"notes": supplier.notes}


@router.get("/hybrid")
async def hybrid(db: AsyncSession = Depends(get_db)):
    product = (await db.scalars(select(Product).options(selectinload(Product.supplier)))).first()
    return {"supplier": product.supplier_name}


@router.get("/narrowed")
async def narrowed(db: AsyncSession = Depends(get_db)):
    product = (await db.scalars(select(Product).options(load_only(Product.name, Product.price)))).first()
    return {"price": product.price}


@router.get("/served", response_model=list[ProductOut])
async def served(db: AsyncSession = Depends(get_db)):
    return (await db.scalars(select(Product).options(defer(Product.supplier_id)))).all()


@router.get("/served-notes", response_model=SupplierOut)
async def served_notes(db: AsyncSession = Depends(get_db)):
    return (await db.scalars(select(Supplier).options(undefer(Supplier.notes)))).first()


@router.get("/helper")
async def helper(db: AsyncSession = Depends(get_db)):
    supplier = (await db.scalars(select(Supplier).where(Supplier.id == 1).options(undefer(Supplier.notes)))).one()
    return {"notes": notes_of(supplier)}
"""
SERVICES = """
from models import Supplier


def notes_of(supplier: Supplier) -> str:
    return supplier.notes or ""
"""


def _check(cli, project, routes: str) -> dict[str, str]:
    root = project({"models/__init__.py": PACKAGE, "models/catalogue.py": MODELS, "services.py": SERVICES,
                    "api.py": routes, "main.py": MAIN.replace("items", "api")})
    document = cli.json("check", root)
    return {f["function"]: f["message"] for f in document["findings"] if f["code"] == "AM314"}


def test_check_reports_what_an_async_route_leaves_unloaded_on_a_re_exported_model(cli, project):
    found = _check(cli, project, HAND)
    assert set(found) == {"notes", "isbn", "hybrid", "narrowed", "served", "served_notes", "served_books",
                          "helper"}, found
    assert "supplier.notes (Supplier.notes, a deferred column no query undefers" in found["notes"]
    assert "product.isbn (Book.isbn, a subclass column" in found["isbn"]
    assert "product.supplier_name (runs Product.supplier_name, reads supplier" in found["hybrid"]
    assert "`load_only(Product.name)` in narrowed leaves it unloaded" in found["narrowed"]
    assert "ProductOut.price (Product.price" in found["served"] and "`defer(Product.price)`" in found["served"]
    assert "SupplierOut.notes (Supplier.notes, a deferred column" in found["served_notes"]
    assert "BookOut.isbn (Book.isbn, a subclass column" in found["served_books"]
    assert "Supplier.notes (a deferred column no query undefers" in found["helper"]


def test_near_miss_check_passes_the_same_routes_once_their_queries_load_what_they_read(cli, project):
    head = HAND[: HAND.index('@router.get("/notes")')]
    found = _check(cli, project, head + NEAR)
    assert found == {}, found
