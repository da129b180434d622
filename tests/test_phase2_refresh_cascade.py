"""Phase two and a refresh that cascades to objects whose lazy relationship the response reads, RUN on three databases.

`cancel_order(db, id)` loads an order with `selectinload(Order.lines).selectinload(Line.product)`,
changes the products, commits and refreshes the order, as phase two advises; `Order.lines` has
`cascade="all, delete-orphan"`, which holds refresh-expire: the refresh refreshes each line too
and leaves `Line.product` unloaded, and the response model (`OrderOut.lines[].product`) reads it.
Phase two migrated the route returning the helper's result, and serialising it raised
MissingGreenlet (the same code written in the route was migrated too where the synchronous
sessionmaker keeps objects on commit). Both forms now stay synchronous (AM291), and their
unchanged code still answers. Near miss: without the cascade the refresh reaches the order only,
and both routes migrate and answer alike. Each is run on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ORDERS = """
class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(20))
    stock: Mapped[int]


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    lines: Mapped[list["Line"]] = relationship(back_populates="order", order_by="Line.id", cascade="all, delete-orphan")


class Line(Base):
    __tablename__ = "lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]
    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()
"""
SERVICES = """
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Line, Order


def cancel_order(db: Session, order_id: int) -> Order:
    stmt = select(Order).where(Order.id == order_id).options(selectinload(Order.lines).selectinload(Line.product))
    order = db.scalars(stmt).one()
    order.status = "cancelled"
    for line in order.lines:
        line.product.stock += line.quantity
    db.commit()
    db.refresh(order)
    return order
"""
ROUTES = """
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import selectinload

from models import Line, Order
from services import cancel_order


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    sku: str
    stock: int


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    quantity: int
    product: ProductOut


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    status: str
    lines: list[LineOut]


@router.post("/orders/{order_id}/cancel", response_model=OrderOut)
def cancel(order_id: int, db: Session = Depends(get_db_session)):
    return cancel_order(db, order_id)


@router.post("/orders/{order_id}/close", response_model=OrderOut)
def close(order_id: int, db: Session = Depends(get_db_session)):
    stmt = select(Order).where(Order.id == order_id).options(selectinload(Order.lines).selectinload(Line.product))
    order = db.scalars(stmt).one()
    order.status = "closed"
    for line in order.lines:
        line.product.stock += line.quantity
    db.commit()
    db.refresh(order)
    return order
"""
RUN = """
from models import Line, Order, Product

answers = []
for path in ("cancel", "close"):
    with Sync() as s:
        s.add(Order(lines=[Line(product=Product(sku="A", stock=1), quantity=2), Line(product=Product(sku="B", stock=1), quantity=3)]))
        s.commit()
        order_id = max(s.scalars(select(Order.id)))
    response = client.post(f"/orders/{order_id}/{path}")
    body = response.json()
    answers.append([response.status_code, body["status"], [[l["product"]["sku"], l["product"]["stock"]] for l in body["lines"]]])
with Sync() as s:
    stored = sorted([p.sku, p.stock] for p in s.scalars(select(Product)))
print(json.dumps([answers, stored]))
"""
EXPECTED = [
    [[200, "cancelled", [["A", 3], ["B", 4]]], [200, "closed", [["A", 3], ["B", 4]]]],
    [["A", 3], ["A", 3], ["B", 4], ["B", 4]],
]


def _models(cascade: bool) -> str:
    orders = ORDERS if cascade else ORDERS.replace(', cascade="all, delete-orphan"', "")
    return user_item_models(after=orders, orm="relationship", core="")


@pytest.mark.parametrize("kind", KINDS)
def test_a_refresh_cascading_below_what_the_response_reads_blocks_and_the_code_still_answers(cli, service, kind):
    root = service({"models.py": _models(True), "services.py": SERVICES, SUBSYSTEM: routes(ROUTES)})
    assert serve(root, kind, RUN) == EXPECTED
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    for name, refreshed in (("cancel", "`services.cancel_order(...)`, which refreshes it whole"), ("close", "`db.refresh(order)`")):
        found = handler(document, name)
        assert found["action"] == "blocked" and "AM291" in found["codes"], found
        assert any(refreshed in r and "`OrderOut.lines[].product`" in r and "along `lines`" in r for r in found["reasons"]), found
    assert read(root, SUBSYSTEM) == before
    assert serve(root, kind, RUN) == EXPECTED


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_without_the_cascade_both_forms_migrate_and_answer(cli, service, kind):
    root = service({"models.py": _models(False), "services.py": SERVICES, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name in ("cancel", "close"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)["reasons"]
    assert "async def cancel(" in read(root, SUBSYSTEM)
    assert serve(root, kind, RUN) == EXPECTED
