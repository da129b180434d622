"""AM304 unverified-session: a method called on what a module-level `ContextVar` holds when the
analysis cannot type it (set to a value it cannot read, `uow_var.set(request.app.state.uow_factory())`,
or set nowhere in the project; declared with a project class or not at all), where a project
method of that name does synchronous Session work: the route was "does no synchronous Session
work" and check passed it, a false all-clear. A variable declared to hold no project class
(`ContextVar[dict]`) is left alone."""

from __future__ import annotations

import pytest

ROUTES = """
from contextvars import ContextVar

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session


class Users:
    def __init__(self, session: Session) -> None:
        self.session = session

    def names(self) -> list[str]:
        return list(self.session.scalars(select(1)))


class AbstractUnitOfWork:
    users: Users


uow_var: ContextVar[AbstractUnitOfWork] = ContextVar("uow")
plain_var = ContextVar("plain")
unset_var: ContextVar[AbstractUnitOfWork] = ContextVar("unset")
settings_var: ContextVar[dict] = ContextVar("settings")


async def bind(request: Request):
    uow_var.set(request.app.state.uow_factory())
    plain_var.set(request.app.state.services["users"])
    settings_var.set(request.app.state.settings)
    yield


def current_uow():
    return uow_var.get()


@router.get("/entered", dependencies=[Depends(bind)])
async def entered():
    with uow_var.get() as uow:
        return uow.users.names()


@router.get("/inline", dependencies=[Depends(bind)])
async def inline():
    return plain_var.get().names()


@router.get("/helper", dependencies=[Depends(bind)])
async def through_helper():
    return current_uow().users.names()


@router.get("/unset")
async def unset():
    return unset_var.get().users.names()


@router.get("/settings", dependencies=[Depends(bind)])
async def near_miss():
    return settings_var.get().names()
"""


@pytest.mark.parametrize("route", ["entered", "inline", "through_helper", "unset"])
def test_a_method_on_what_an_untyped_context_variable_holds_is_unverified_am304(app, findings, reported, route):
    root = app(ROUTES)
    found = findings(root, route)
    assert [f["code"] for f in found] == ["AM304"], found
    assert "runs on what the context variable" in found[0]["message"], found
    assert "Users.names (self.session.scalars())" in found[0]["message"], found
    entry = reported(root, route, "phase1")
    assert entry["action"] == "keep" and entry["codes"] == ["AM125"], entry


def test_the_reason_says_where_the_variable_is_set(app, findings):
    message = findings(app(ROUTES), "unset")[0]["message"]
    assert "which nothing in the project sets" in message, message
    message = findings(app(ROUTES), "inline")[0]["message"]
    assert "set at api/items.py:" in message and "to a value the analysis cannot type" in message, message


def test_near_miss_a_variable_declared_to_hold_no_project_class(app, findings, reported):
    root = app(ROUTES)
    assert findings(root, "near_miss") == []
    assert reported(root, "near_miss", "phase1")["reasons"] == ["does no synchronous Session work"]
