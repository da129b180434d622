"""AM304 unverified-session beside a service a container or locator outside the project hands
out: `svc = injector.get(UserService)` then `svc.count()` (python-injector, lagom, punq, svcs, a
registry keyed by class), also through a dependency returning it. The call hands a project class
to code the analysis cannot read; what it returns may be that class's instance, whose Session
work the route then runs on the event loop: unverified, never "no Session work"."""

from __future__ import annotations

import pytest

SERVICES = """
from sqlalchemy import select

from db.engine import database_sessionmaker
from models import Book


class Shelf:
    def count(self):
        with database_sessionmaker() as session:
            return len(session.scalars(select(Book.id)).all())

    def label(self):
        return "books"
"""

ROUTES = """
from fastapi import Depends, Request

from locator import container
from services import Shelf


def get_shelf(request: Request):
    return request.app.state.container.get(Shelf)


def get_held_shelf():
    shelf = container.resolve(Shelf)
    return shelf


@router.get("/count")
async def count(request: Request, held=Depends(get_shelf), other=Depends(get_held_shelf)):
    BODY
"""
LOCATOR = "from vendor_di import Container\n\ncontainer = Container()\n"


@pytest.mark.parametrize(("body", "spelled"), [
    ("shelf = container.get(Shelf)\n    return {'n': shelf.count()}", "container.get(Shelf)"),
    ("return {'n': held.count()}", "request.app.state.container.get(Shelf)"),
    ("return {'n': other.count()}", "container.resolve(Shelf)"),
])
def test_a_method_on_what_a_locator_hands_out_for_a_project_class_is_unverified(app, findings, reported, body, spelled):
    root = app(ROUTES.replace("BODY", body), {"services.py": SERVICES, "locator.py": LOCATOR})
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM304"], found
    assert f"runs on what `{spelled}` returns, handed the project class `Shelf`" in found[0]["message"], found
    assert reported(root, "count", "phase1")["action"] == "keep"


@pytest.mark.parametrize("body", [
    # the class's method of that name does no Session work
    "shelf = container.get(Shelf)\n    return {'n': shelf.label()}",
    # a project class built by the route itself: an edge the call graph follows (no work here)
    "shelf = Shelf()\n    return {'n': shelf.label()}",
])
def test_near_miss_nothing_it_may_be_does_session_work(app, findings, body):
    root = app(ROUTES.replace("BODY", body), {"services.py": SERVICES, "locator.py": LOCATOR})
    assert findings(root, "count") == []
