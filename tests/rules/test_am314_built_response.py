"""AM314 on a response model read on an object no query loaded: built by the route, or handed back by a method.

`product = await repo.add(Product(...))` (a repository method adding and returning what it is
given), `await db.commit()`, `return product` under `response_model=ProductOut` reading
`Product.supplier` declared `lazy="selectin"`: that strategy loads with a query of Product, and no
query loaded this object, so FastAPI's read while serialising is the lazy load: MissingGreenlet
(the shape phase two used to write). The same for an object the route builds and adds itself.
A refresh naming the relationship (in the route, or in the function handing it back), a
method returning what its query loads, or a function returning the parameter it is given what
a query loaded, is no finding."""

from __future__ import annotations

import pytest

MODELS = '''
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Supplier(Base):
    __tablename__ = "suppliers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(50))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    supplier: Mapped[Supplier] = relationship(lazy="selectin")
'''
ENGINE = '''
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite://")
maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
'''
ROUTES = '''
from fastapi import Depends
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.async_engine import get_session
from models import Product


class SupplierOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    sku: str
    supplier: SupplierOut


class ProductRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, obj: Product) -> Product:
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def first(self) -> Product:
        return (await self.session.scalars(select(Product).order_by(Product.id))).first()


async def make(session: AsyncSession, sku: str) -> Product:
    product = Product(sku=sku, supplier_id=1)
    session.add(product)
    await session.commit()
    await session.refresh(product, attribute_names=["supplier"])
    return product


@router.post("/handed", response_model=ProductOut)
async def handed(sku: str, db: AsyncSession = Depends(get_session)):
    product = await ProductRepository(db).add(Product(sku=sku, supplier_id=1))
    await db.commit()
    return product


@router.post("/built", response_model=ProductOut)
async def built(sku: str, db: AsyncSession = Depends(get_session)):
    product = Product(sku=sku, supplier_id=1)
    db.add(product)
    await db.commit()
    return product


@router.post("/refreshed", response_model=ProductOut)
async def refreshed(sku: str, db: AsyncSession = Depends(get_session)):
    product = await ProductRepository(db).add(Product(sku=sku, supplier_id=1))
    await db.commit()
    await db.refresh(product, attribute_names=["supplier"])
    return product


@router.post("/made", response_model=ProductOut)
async def made(sku: str, db: AsyncSession = Depends(get_session)):
    return await make(db, sku)


@router.get("/queried", response_model=ProductOut)
async def queried(db: AsyncSession = Depends(get_session)):
    return await ProductRepository(db).first()


async def rename(session: AsyncSession, product: Product, sku: str) -> Product:
    product.sku = sku
    await session.commit()
    return product


@router.put("/renamed", response_model=ProductOut)
async def renamed(sku: str, db: AsyncSession = Depends(get_session)):
    product = await ProductRepository(db).first()
    return await rename(db, product, sku)


async def keep(session: AsyncSession, product: Product) -> Product:
    return product


@router.put("/cycled", response_model=ProductOut)
async def cycled(db: AsyncSession = Depends(get_session)):
    for _ in range(2):
        first = await keep(db, second)  # noqa: F821 (bound below, in the loop's previous round)
        second = await keep(db, first)
    return second


@router.post("/renamed-new", response_model=ProductOut)
async def renamed_new(sku: str, db: AsyncSession = Depends(get_session)):
    product = await ProductRepository(db).add(Product(sku=sku, supplier_id=1))
    return await rename(db, product, sku)
'''


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    return app(ROUTES, {"models.py": MODELS, "db/async_engine.py": ENGINE})


@pytest.mark.parametrize(("function", "where"), [
    ("handed", "on what api.items.ProductRepository.add() hands back"),
    ("built", "on the Product the route builds"),
    # handed back as given by a function whose argument was itself handed back unloaded
    ("renamed_new", "on what api.items.rename() hands back"),
    # bindings handing each other on in a loop: followed back once, then taken as unloaded
    ("cycled", "on what api.items.keep() hands back"),
])
def test_a_response_field_on_an_object_no_query_loaded_is_missing_greenlet(root, findings, function, where):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM314"], found
    calls = [b["call"] for b in found[0]["blocking"]]
    assert any(c.startswith("ProductOut.supplier (lazy load while the response is serialised)") and where in c
               for c in calls), calls


# `renamed`: what `rename` hands back is its parameter, given what a query loaded
@pytest.mark.parametrize("function", ["refreshed", "made", "queried", "renamed"])
def test_near_miss_a_refresh_naming_it_or_a_query_loading_it(root, findings, function):
    assert findings(root, function) == []
