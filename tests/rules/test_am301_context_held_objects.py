"""AM301 blocking-session: a project object a module-level `ContextVar` holds for the request (a
unit of work, a repository, a service built around the Session and set by a dependency or a
middleware), read back with `.get()` and its methods called there (`uow_var.get().users.list()`,
through a local or a helper returning it), does the Session work those methods do. check passed
such a route as clean and phase one kept it as doing no Session work, a false all-clear."""

from __future__ import annotations

import pytest

ROUTES = """
from contextvars import ContextVar

from fastapi import Depends
from sqlalchemy import select

from db.engine import database_sessionmaker


class Users:
    def __init__(self, session) -> None:
        self.session = session

    def names(self) -> list[str]:
        return list(self.session.scalars(select(1)))


class UnitOfWork:
    def __enter__(self):
        self.session = database_sessionmaker()
        self.users = Users(self.session)
        return self

    def __exit__(self, *exc) -> None:
        self.session.close()


class Clock:
    def now(self) -> int:
        return 0


uow_var = ContextVar("uow")
repo_var: ContextVar[Users] = ContextVar("repo")
clock_var: ContextVar[Clock] = ContextVar("clock")


async def bind_uow():
    uow = UnitOfWork()
    with uow:
        token = uow_var.set(uow)
        yield
        uow_var.reset(token)


async def bind_repo(session: session_dependency):
    repo_var.set(Users(session))
    clock_var.set(Clock())
    yield


def current_users() -> Users:
    return repo_var.get()


@router.get("/uow", dependencies=[Depends(bind_uow)])
async def through_unit_of_work():
    uow = uow_var.get()
    return uow.users.names()


@router.get("/repo", dependencies=[Depends(bind_repo)])
async def through_repository():
    return repo_var.get().names()


@router.get("/helper", dependencies=[Depends(bind_repo)])
async def through_helper():
    return current_users().names()


@router.get("/clock", dependencies=[Depends(bind_repo)])
async def near_miss():
    return {"now": clock_var.get().now()}
"""


@pytest.mark.parametrize("route", ["through_unit_of_work", "through_repository", "through_helper"])
def test_an_object_a_context_variable_holds_does_its_methods_session_work_am301(app, findings, reported, route):
    root = app(ROUTES)
    found = findings(root, route)
    assert [f["code"] for f in found] == ["AM301"], found
    entry = reported(root, route, "phase1")
    assert entry["action"] == "convert" and "Users.names -> self.session.scalars()" in " ".join(entry["reasons"]), entry


def test_near_miss_an_object_doing_no_session_work(app, findings, reported):
    root = app(ROUTES)
    assert findings(root, "near_miss") == []
    assert reported(root, "near_miss", "phase1")["action"] == "keep"
