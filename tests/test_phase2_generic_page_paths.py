"""A generic page (`class Page(BaseModel, Generic[T])` with `items: list[T]`) as the response model,
`Page[OrderOut]`, built by the route (`Page(items=orders, total=n)`). Before, every model the
annotation names was also walked as the model of the page the route built: `OrderOut` read the
page's own fields, and one relationship, `OrderLine.product`, was named three times, twice on
paths no response has (`OrderOut.items.items.product`, `OrderOut.items.product`). Now a page the
route builds is validated by its own class, its items through the type parameter: each
relationship once, on the path the response has (`Page.items.lines.product`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from textwrap import dedent

import pytest
from phase2_kit import KINDS
from sample import database, run_python

MODELS = """
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship()
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order")


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]
    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()
"""
SCHEMAS = """
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class ORM(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CustomerOut(ORM):
    id: int
    name: str


class ProductOut(ORM):
    id: int
    title: str


class LineOut(ORM):
    id: int
    quantity: int
    product: ProductOut


class OrderOut(ORM):
    id: int
    customer: CustomerOut
    lines: list[LineOut]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
"""
DB = """
import os
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///./app.db"))
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


def get_session() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
"""
# The trial's shape: the query in a generic repository (`select(self.model)`), which phase two
# cannot give an option for one model.
REPOSITORY = """
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Base, Order

M = TypeVar("M", bound=Base)


class Repository(Generic[M]):
    model: type[M]

    def __init__(self, session: Session) -> None:
        self.session = session

    def page(self, size: int) -> list[M]:
        return list(self.session.scalars(select(self.model).order_by(self.model.id).limit(size)))


class OrderRepository(Repository[Order]):
    model = Order
"""
ORDERS = """
from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from db import SessionDep
from models import Order, OrderLine
from repositories import OrderRepository
from schemas import OrderOut, Page

router = APIRouter(prefix="/orders")


@router.get("", response_model=Page[OrderOut])
def list_orders(session: SessionDep, size: int = 20):
    {body}
    return Page(items=items, total=len(items))
"""
THROUGH_REPOSITORY = "items = OrderRepository(session).page(size)"
EAGER = (
    "items = list(session.scalars(\n"
    "        select(Order)\n"
    "        .options(selectinload(Order.customer), selectinload(Order.lines).selectinload(OrderLine.product))\n"
    "        .order_by(Order.id)\n"
    "        .limit(size)\n"
    "    ))"
)
MAIN = """
from fastapi import FastAPI

import orders

app = FastAPI()
app.include_router(orders.router)
"""


def tree(project, body: str) -> Path:  # type: ignore[no-untyped-def]
    return project({
        "models.py": MODELS, "schemas.py": SCHEMAS, "db.py": DB, "repositories.py": REPOSITORY,
        "orders.py": ORDERS.replace("{body}", body), "main.py": MAIN,
    })


def test_each_relationship_of_a_generic_page_is_named_once_on_the_path_the_response_has(cli, project):
    root = tree(project, THROUGH_REPOSITORY)
    document = cli.json("phase2", root, "-s", "orders.py")
    (found,) = [h for h in document["handlers"] if h["function"] == "list_orders"]
    assert found["action"] == "blocked", found
    said = [reason.split(" reads ", 1) for reason in found["reasons"]]
    assert [(head.rpartition(" ")[2], rest.split(",", 1)[0]) for head, rest in said] == [
        ("Page.items.customer", "relationship Order.customer"),
        ("Page.items.lines", "relationship Order.lines"),
        ("Page.items.lines.product", "relationship OrderLine.product"),
    ], found["reasons"]
    assert "add `selectinload(OrderLine.product)` to the query" in found["reasons"][2], found["reasons"][2]


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_the_page_eager_loaded_migrates_and_serves_its_items(cli, project, kind):
    root = tree(project, EAGER)
    document = cli.json("phase2", root, "-s", "orders.py", "--apply")
    (found,) = [h for h in document["handlers"] if h["function"] == "list_orders"]
    assert found["action"] == "migrate", found
    text = (root / "orders.py").read_text(encoding="utf-8")
    assert "async def list_orders(" in text and "items = list(await session.scalars(" in text, text
    script = dedent("""
        import json
        from fastapi.testclient import TestClient
        from sqlalchemy.orm import Session
        from db import engine
        from models import Base, Customer, Order, OrderLine, Product
        import main

        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            ann, apple = Customer(name="Ann"), Product(title="Apple")
            session.add(Order(customer=ann, lines=[OrderLine(product=apple, quantity=3)]))
            session.commit()
        with TestClient(main.app) as client:
            page = client.get("/orders").json()
            import db
            client.portal.call(db.async_engine.dispose)
        Base.metadata.drop_all(engine)
        engine.dispose()
        print(json.dumps(page))
    """)
    with database(kind, "genericpage") as url:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
            "PYTHONPATH": str(root),
            "DATABASE_URL": url or f"sqlite:///{root / 'app.db'}",
        }
        result = run_python(script, cwd=root, env=env, warnings=("error::RuntimeWarning",))
    assert result.returncode == 0, result.stdout + result.stderr
    page = json.loads(result.stdout.strip().splitlines()[-1])
    assert page == {
        "items": [{
            "id": 1, "customer": {"id": 1, "name": "Ann"},
            "lines": [{"id": 1, "quantity": 3, "product": {"id": 1, "title": "Apple"}}],
        }],
        "total": 1,
    }, page
