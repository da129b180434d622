"""AM307 for an object read on the event loop after a unit of work's (or a service's) method
committed its Session in the threadpool: `product = await run_in_threadpool(svc.product, sku)`,
`await run_in_threadpool(uow.commit)`, then `product.sku`; or `product = await
run_in_threadpool(service.reprice, sku, p)`, `reprice` committing through `self.uow.commit()`
and returning the product. With `expire_on_commit` (the default) the commit expired it and the
read refreshes it, a SELECT on the loop, while scan said "nothing blocks the event loop" and
`check` passed the route (found by a new-user trial): only a Session parameter's commit was
followed. Near misses: every sessionmaker written `expire_on_commit=False`, a read before the
commit, a committing method of a class that opens its own Session. The premise test runs the
flagged route's statements and records a SELECT on the loop's thread."""

from __future__ import annotations

import asyncio

import pytest
from sample import imported, statements_on_this_thread

DB = """
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

engine = create_engine("{url}")
SessionLocal = sessionmaker(bind=engine{maker})


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str]
    price: Mapped[int]


class UnitOfWork:
    def __enter__(self) -> "UnitOfWork":
        self.session = SessionLocal()
        return self

    def __exit__(self, *exc) -> None:
        self.session.close()

    def commit(self) -> None:
        self.session.commit()


def get_uow():
    with UnitOfWork() as uow:
        yield uow


class Catalog:
    def __init__(self, uow: UnitOfWork):
        self.uow = uow

    def product(self, sku: str) -> Product:
        return self.uow.session.scalars(select(Product).where(Product.sku == sku)).one()

    def reprice(self, sku: str, price: int) -> Product:
        product = self.product(sku)
        product.price = price
        self.uow.commit()
        return product


class Audit:
    def record(self, sku: str) -> None:
        with SessionLocal() as session:
            session.commit()
"""
MAIN = """
from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool

from offload_db import Audit, Catalog, UnitOfWork, get_uow

app = FastAPI()


@app.put("/commit-after/{sku}")
async def commit_after(sku: str, price: int, uow: UnitOfWork = Depends(get_uow)):
    product = await run_in_threadpool(Catalog(uow).product, sku)
    product.price = price
    await run_in_threadpool(uow.commit)
    return {"sku": product.sku}


@app.put("/reprice/{sku}")
async def reprice(sku: str, price: int, uow: UnitOfWork = Depends(get_uow)):
    product = await run_in_threadpool(Catalog(uow).reprice, sku, price)
    return {"sku": product.sku, "price": product.price}


@app.put("/read-before/{sku}")
async def read_before(sku: str, uow: UnitOfWork = Depends(get_uow)):
    product = await run_in_threadpool(Catalog(uow).product, sku)
    name = product.sku
    await run_in_threadpool(uow.commit)
    return {"sku": name}


@app.put("/own-session/{sku}")
async def own_session(sku: str, uow: UnitOfWork = Depends(get_uow)):
    product = await run_in_threadpool(Catalog(uow).product, sku)
    await run_in_threadpool(Audit().record, sku)
    return {"sku": product.sku}
"""


def _root(project, maker: str = ""):  # type: ignore[no-untyped-def]
    return project({"offload_db.py": DB.format(url="sqlite:///./app.db", maker=maker), "offload_main.py": MAIN})


@pytest.mark.parametrize("name", ["commit_after", "reprice"])
def test_a_read_after_a_holders_commit_in_the_threadpool_is_am307(project, findings, reported, name):
    root = _root(project)
    found = findings(root, name)
    assert [f["code"] for f in found] == ["AM307"], found
    assert "after the commit it ran in the threadpool" in found[0]["message"], found[0]["message"]
    assert reported(root, name)["action"] == "keep"


@pytest.mark.parametrize("name", ["read_before", "own_session"])
def test_near_misses_a_read_before_the_commit_and_a_method_opening_its_own_session(project, findings, name):
    assert findings(_root(project), name) == []


def test_near_miss_no_sessionmaker_expires_on_commit(project, findings):
    root = _root(project, maker=", expire_on_commit=False")
    for name in ("commit_after", "reprice"):
        assert findings(root, name) == [], name


def test_the_premise_the_read_after_the_offloaded_commit_queries_on_the_loop(tmp_path):
    from fastapi.concurrency import run_in_threadpool

    source = DB.format(url=f"sqlite:///{tmp_path / 'o.db'}", maker="")
    with imported(tmp_path, {"offload_db": source}) as (db,):
        db.Base.metadata.create_all(db.engine)
        with db.SessionLocal() as session:
            session.add(db.Product(id=1, sku="a", price=1))
            session.commit()

        async def run() -> tuple[str, list[str]]:
            with statements_on_this_thread(db.engine) as on_loop, db.UnitOfWork() as uow:
                product = await run_in_threadpool(db.Catalog(uow).reprice, "a", 2)
                return product.sku, on_loop

        assert asyncio.run(run()) == ("a", ["SELECT"])
        db.engine.dispose()
