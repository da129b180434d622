"""AM291 refresh-cascade-read: a route returning an object a helper refreshed whole, whose
refresh cascades (`cascade="all, delete-orphan"`) to objects whose lazy relationship the response
model reads, blocks; the same relationship without refresh-expire in its cascade does not (run
in tests/test_phase2_refresh_cascade.py)."""

from __future__ import annotations

import pytest
from test_phase2_rules import MODELS

ORDERS = MODELS.replace("from sqlalchemy import ForeignKey", "from sqlalchemy import ForeignKey, String") + """

class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(20))


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    lines: Mapped[list["Line"]] = relationship(order_by="Line.id", cascade="all, delete-orphan")


class Line(Base):
    __tablename__ = "lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    product: Mapped[Product] = relationship()
"""
SERVICES = """
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Line, Order


def close_order(db: Session, order_id: int) -> Order:
    order = db.scalars(select(Order).where(Order.id == order_id).options(selectinload(Order.lines).selectinload(Line.product))).one()
    db.commit()
    db.refresh(order)
    return order
"""
ROUTE = """
from pydantic import BaseModel, ConfigDict

from services import close_order


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    sku: str


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    product: ProductOut


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    lines: list[LineOut]


@router.post("/orders/{order_id}/close", response_model=OrderOut)
def close(order_id: int, session: session_dependency):
    return close_order(session, order_id)
"""


@pytest.mark.parametrize("cascade", ['cascade="all, delete-orphan"', 'cascade="save-update, merge, refresh-expire"'])
def test_a_helpers_refresh_cascading_below_the_response_blocks_the_route_with_am291(phase2, entry, cascade):
    models = ORDERS.replace('cascade="all, delete-orphan"', cascade)
    document = phase2(ROUTE, {"models.py": models, "services.py": SERVICES})
    found = entry(document, "close")
    assert found["action"] == "blocked" and "AM291" in found["codes"], found
    assert any("`OrderOut.lines[].product`" in r and "along `lines`" in r for r in found["reasons"]), found


def test_near_miss_a_cascade_without_refresh_expire_does_not_block(phase2, entry):
    models = ORDERS.replace('cascade="all, delete-orphan"', 'cascade="save-update, merge, delete"')
    document = phase2(ROUTE, {"models.py": models, "services.py": SERVICES})
    found = entry(document, "close")
    assert "AM291" not in found["codes"], found
