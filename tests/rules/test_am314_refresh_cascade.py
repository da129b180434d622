"""AM314 on a route returning an object it refreshed whole along a cascade of refresh-expire, in code already async.

`await db.refresh(order)` where `Order.lines` holds refresh-expire in its cascade
(`cascade="all, delete-orphan"`) refreshes each `Line` too, which left `Line.product` unloaded
(after the route changed the products), though `selectinload(Order.lines).selectinload(Line.product)`
loaded it: the response model reading `OrderOut.lines[].product` then loads it while FastAPI
serialises the response, and MissingGreenlet raised; `check` passed the route. Near misses: the
same relationship without the cascade, a refresh naming the attributes it loads, and a response
model reading nothing below `lines`."""

from __future__ import annotations

DB = """
from sqlalchemy import ForeignKey
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Line(Base):
    __tablename__ = "lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    product: Mapped[Product] = relationship()


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str]
    lines: Mapped[list[Line]] = relationship({cascade})


async def get_db():
    async with SessionLocal() as db:
        yield db
"""
MAIN = """
from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.db import Line, Order, get_db

app = FastAPI()


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    product: ProductOut


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    status: str
    lines: list[LineOut]


class LineIds(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int


class OrderIds(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    lines: list[LineIds]


def _query(order_id: int):
    return select(Order).where(Order.id == order_id).options(selectinload(Order.lines).selectinload(Line.product))


@app.post("/a/{order_id}", response_model=OrderOut)
async def pay(order_id: int, db: AsyncSession = Depends(get_db)):
    order = (await db.scalars(_query(order_id))).one()
    order.status = "paid"
    for line in order.lines:
        line.product.name += "!"
    await db.commit()
    await db.refresh(order)
    return order


async def settle(db: AsyncSession, order: Order) -> Order:
    order.status = "settled"
    await db.commit()
    await db.refresh(order)
    return order


@app.post("/b/{order_id}", response_model=OrderOut)
async def settled(order_id: int, db: AsyncSession = Depends(get_db)):
    order = (await db.scalars(_query(order_id))).one()
    return await settle(db, order)


@app.post("/c/{order_id}", response_model=OrderOut)
async def partial(order_id: int, db: AsyncSession = Depends(get_db)):
    order = (await db.scalars(_query(order_id))).one()
    order.status = "paid"
    await db.commit()
    await db.refresh(order, ["status"])
    return order


@app.post("/d/{order_id}", response_model=OrderIds)
async def ids(order_id: int, db: AsyncSession = Depends(get_db)):
    order = (await db.scalars(_query(order_id))).one()
    order.status = "paid"
    await db.commit()
    await db.refresh(order)
    return order
"""


def _root(project, cascade: str = 'cascade="all, delete-orphan"'):  # type: ignore[no-untyped-def]
    return project({"app/__init__.py": "", "app/db.py": DB.format(cascade=cascade), "app/main.py": MAIN})


def _cascaded(found: list[dict]) -> list[dict]:
    return [f for f in found if "cascade of refresh-expire" in f["message"]]


def test_a_route_returning_what_it_refreshed_along_a_cascade_is_am314(project, findings):
    root = _root(project)
    found = findings(root, "pay")
    assert [f["code"] for f in found] == ["AM314"], found
    message = found[0]["message"]
    assert "`order` returned after `db.refresh(order)` at line 52" in message, found
    assert "`product` (along `lines`) where the response model reads `OrderOut.lines[].product`" in message, found
    found = _cascaded(findings(root, "settled"))
    assert [f["code"] for f in found] == ["AM314"], found
    assert "what `settle(...)` returns after refreshing it whole" in found[0]["message"], found


def test_near_miss_a_partial_refresh_and_a_response_reading_nothing_below(project, findings):
    root = _root(project)
    assert findings(root, "partial") == []
    assert findings(root, "ids") == []


def test_near_miss_without_refresh_expire_in_the_cascade(project, findings):
    root = _root(project, 'cascade="save-update, merge"')
    assert findings(root, "pay") == []
    assert _cascaded(findings(root, "settled")) == []
