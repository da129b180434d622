"""AM301 blocking-session through a classmethod factory a generic base defines
(`UserService.from_session(db)` running `return cls(db)`): the factory only builds the class it
is called on around the Session, as `UserService(db)` does, so check no longer lists it among the
blocking calls beside the methods called on what it returns (the subclass's own, `by_name`). A
factory doing anything more with the Session stays Session work."""

from __future__ import annotations

import pytest

ROUTES = """
import asyncio
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

ModelT = TypeVar("ModelT")


class BaseService(Generic[ModelT]):
    model: type

    def __init__(self, db: Session) -> None:
        self.db = db

    @classmethod
    def from_session(cls, db: Session):
        return cls(db)

    @classmethod
    def warmed(cls, db: Session):
        db.execute(select(1))
        return cls(db)

    def first(self):
        return self.db.get(self.model, 1)


class UserService(BaseService[dict]):
    model = dict

    def by_name(self, name: str):
        return self.db.scalars(select(1)).all()


@router.get("/named")
async def named(db: session_dependency):
    await asyncio.sleep(0)
    return UserService.from_session(db).by_name("ada")


@router.get("/warmed")
async def warmed(db: session_dependency):
    await asyncio.sleep(0)
    return UserService.warmed(db)
"""


def test_the_subclass_method_on_what_it_builds_is_the_blocking_call(app, findings):
    found = findings(app(ROUTES), "named")
    assert [f["code"] for f in found] == ["AM301"], found
    calls = [b["call"] for b in found[0]["blocking"]]
    assert calls == ["api.items.UserService.by_name(...)"], calls


@pytest.mark.parametrize("route", ["warmed"])
def test_near_miss_a_factory_doing_session_work_stays_work(app, findings, route):
    found = findings(app(ROUTES), route)
    assert [f["code"] for f in found] == ["AM301"], found
    assert "BaseService.warmed" in found[0]["message"], found
