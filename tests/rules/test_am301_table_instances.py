"""AM301 blocking-session: an instance of a class taken out of a module-level table of project
classes (an implementation chosen at run time: `UOWS = {"sql": SqlAlchemyUnitOfWork}`, then
`UOWS[kind]()` returned by a factory or bound to a local) does the Session work its methods do.
The flow had no value for such a call (the notation cannot spell it), so `with make_uow() as uow:
uow.users.names()` left the async def route passing check as clean, and phase one kept it as
doing no Session work."""

from __future__ import annotations

import pytest

ROUTES = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker


class Users:
    def __init__(self, session: Session) -> None:
        self.session = session

    def names(self) -> list[str]:
        return list(self.session.scalars(select(1)))


class UnitOfWork:
    def __init__(self, session_factory=database_sessionmaker) -> None:
        self.session_factory = session_factory

    def __enter__(self):
        self.session = self.session_factory()
        self.users = Users(self.session)
        return self

    def __exit__(self, *exc) -> None:
        self.session.close()


class Clock:
    def now(self) -> int:
        return 0


UOWS = {"sql": UnitOfWork}
CLOCKS = (Clock,)


def make_uow(kind="sql"):
    return UOWS[kind]()


@router.get("/factory")
async def from_factory():
    with make_uow() as uow:
        return uow.users.names()


@router.get("/local")
async def from_local(kind: str = "sql"):
    uow = UOWS[kind]()
    with uow:
        return uow.users.names()


@router.get("/clock")
async def near_miss():
    clock = CLOCKS[0]()
    return {"now": clock.now()}
"""


@pytest.mark.parametrize("route", ["from_factory", "from_local"])
def test_an_instance_taken_out_of_a_table_of_classes_does_their_session_work_am301(app, findings, reported, route):
    root = app(ROUTES)
    found = findings(root, route)
    assert [f["code"] for f in found] == ["AM301"], found
    entry = reported(root, route, "phase1")
    assert entry["action"] == "convert", entry
    assert "self.session.scalars()" in " ".join(entry["reasons"]) or "self.session.close()" in " ".join(
        entry["reasons"]
    ), entry


def test_near_miss_a_table_of_classes_doing_no_session_work(app, findings, reported):
    root = app(ROUTES)
    assert findings(root, "near_miss") == []
    assert reported(root, "near_miss", "phase1")["reasons"] == ["does no synchronous Session work"]
