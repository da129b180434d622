"""AM301 blocking-session, near misses: building a dataclass, an attrs class or a NamedTuple on the
Session a context value carries (`OrderService(ctx.db)`, a service locator's `@cached_property`
returning one) only stores it, as a plain class's `__init__` storing it does; check reported the construction itself as
synchronous Session work on the event loop (an `async def` route building a service and awaiting
an HTTP call failed CI), and every reason listed the locator's property among the blocking calls.
The instance's methods doing I/O are still reported where they run; a construction whose generated
`__init__` runs project code (`__post_init__`, a pydantic model's validation, a `field(default_factory=
...)`) or whose instance goes straight to code outside the project (`attrs.evolve(Svc(db))`) stays
Session work."""

from __future__ import annotations

import pytest

ROUTES = """
import asyncio
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import attrs
from fastapi import Depends
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_db_session


@dataclass(frozen=True)
class OrderService:
    db: Session

    def count(self) -> int:
        return len(self.db.scalars(select(1)).all())


@attrs.define
class ProductService:
    db: Session


class OrderRepo(NamedTuple):
    db: Session


class AuditLog(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    db: Session


@dataclass
class Loaded:
    db: Session
    rows: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows = list(self.db.scalars(select(1)))


class Services:
    def __init__(self, db: Session) -> None:
        self._db = db

    @cached_property
    def orders(self) -> OrderService:
        return OrderService(self._db)


@dataclass
class Ctx:
    db: Session
    user: str


def get_ctx(db: Session = Depends(get_db_session)) -> Ctx:
    return Ctx(db, "ann")


async def lookup() -> int:
    await asyncio.sleep(0)
    return 1


@router.get("/dataclass")
async def built_dataclass(ctx: Ctx = Depends(get_ctx)):
    svc = OrderService(ctx.db)
    return {"n": await lookup(), "svc": svc is not None}


@router.get("/attrs")
async def built_attrs(ctx: Ctx = Depends(get_ctx)):
    svc = ProductService(ctx.db)
    return {"n": await lookup(), "svc": svc is not None}


@router.get("/namedtuple")
async def built_named_tuple(ctx: Ctx = Depends(get_ctx)):
    repo = OrderRepo(ctx.db)
    return {"n": await lookup(), "repo": repo is not None}


@router.get("/locator")
async def locator(ctx: Ctx = Depends(get_ctx)):
    orders = Services(ctx.db).orders
    return {"n": await lookup(), "svc": orders is not None}


@router.get("/counted")
async def counted(ctx: Ctx = Depends(get_ctx)):
    svc = OrderService(ctx.db)
    return {"n": await lookup(), "count": svc.count()}


@router.get("/pydantic")
async def pydantic_model(ctx: Ctx = Depends(get_ctx)):
    log = AuditLog(db=ctx.db)
    return {"n": await lookup(), "log": log is not None}


@router.get("/post-init")
async def post_init(ctx: Ctx = Depends(get_ctx)):
    loaded = Loaded(ctx.db)
    return {"n": await lookup(), "rows": len(loaded.rows)}


@router.get("/evolved")
async def evolved(ctx: Ctx = Depends(get_ctx)):
    svc = attrs.evolve(ProductService(ctx.db))
    return {"n": await lookup(), "svc": svc is not None}
"""


@pytest.mark.parametrize("route", ["built_dataclass", "built_attrs", "built_named_tuple", "locator"])
def test_building_a_generated_init_holder_is_no_session_work(app, findings, route):
    assert findings(app(ROUTES), route) == []


def test_the_holders_methods_are_still_reported(app, findings):
    found = findings(app(ROUTES), "counted")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "OrderService.count" in found[0]["message"], found
    assert "OrderService(ctx.db)" not in found[0]["message"], found


@pytest.mark.parametrize("route", ["pydantic_model", "post_init", "evolved"])
def test_near_miss_a_construction_running_code_or_handed_outside_stays_work(app, findings, route):
    found = findings(app(ROUTES), route)
    assert [f["code"] for f in found] == ["AM301"], found
