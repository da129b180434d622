"""AM301 blocking-session: a synchronous Session entered without a `with` statement (`__enter__()`,
`ExitStack.enter_context(...)`), in the route or in the session dependency that yields it, is the
Session a `with` would give: its work on the event loop is reported, never an all-clear."""

from __future__ import annotations

import pytest

ROUTES = """
import contextlib

from fastapi import Depends
from sqlalchemy import select

from db.engine import database_sessionmaker


def get_db_stack():
    with contextlib.ExitStack() as stack:
        db = stack.enter_context(database_sessionmaker())
        yield db


def get_db_entered():
    db = database_sessionmaker.begin().__enter__()
    try:
        yield db
    finally:
        db.close()


def get_db_held():
    cm = database_sessionmaker.begin()
    db = cm.__enter__()
    try:
        yield db
    finally:
        cm.__exit__(None, None, None)


@router.get("/entered")
async def entered():
    db = database_sessionmaker().__enter__()
    return db.scalars(select(1)).all()


@router.get("/begin-entered")
async def begin_entered():
    db = database_sessionmaker.begin().__enter__()
    return db.scalars(select(1)).all()


@router.get("/stack")
async def from_stack(db=Depends(get_db_stack)):
    return db.scalars(select(1)).all()


@router.get("/dependency-entered")
async def from_entered(db=Depends(get_db_entered)):
    return db.scalars(select(1)).all()


@router.get("/dependency-held")
async def from_held(db=Depends(get_db_held)):
    return db.scalars(select(1)).all()


@router.get("/other")
async def near_miss():
    with contextlib.ExitStack() as stack:
        name = stack.enter_context(open(__file__)).name
    return {"name": name}
"""


@pytest.mark.parametrize("route", ["entered", "begin_entered", "from_stack", "from_entered", "from_held"])
def test_a_session_entered_by_hand_is_followed_to_its_work_am301(app, findings, route):
    found = findings(app(ROUTES), route)
    assert [f["code"] for f in found] == ["AM301"], found
    assert "(db.scalars())" in found[0]["message"], found


def test_near_miss_an_exit_stack_entering_no_session(app, findings):
    assert findings(app(ROUTES), "near_miss") == []
