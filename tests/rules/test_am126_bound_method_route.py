"""AM126 process-wide-session: a handler that is a bound method of an instance keeping one Session.

FastAPI calls the one instance the registration bound (`h.count`) for every request, so the
Session it keeps in `self` is the whole process's: the same keep (and check's finding) as a
route calling `await h.count()`, whatever way the bound method is registered.
"""

from __future__ import annotations

import pytest

HANDLERS = """
from fastapi import APIRouter
from sqlalchemy import text

from core.dependencies import session_dependency
from db.engine import database_sessionmaker as SessionLocal


class Handlers:
    def __init__(self):
        self.db = SessionLocal()
        self.router = APIRouter()
        self.router.add_api_route("/own", self.own, methods=["GET"])

    async def count(self):
        return self.db.execute(text("select 1")).all()

    async def via_helper(self):
        return self.helper()

    def helper(self):
        return self.db.execute(text("select 1")).all()

    async def own(self):
        return self.db.execute(text("select 1")).all()

    def threaded(self):
        return self.db.execute(text("select 1")).all()


class PerRequest:
    async def count(self, session: session_dependency):
        return session.execute(text("select 1")).all()
"""


def _files(register: str) -> tuple[str, dict[str, str]]:
    return (
        f"from fastapi import Depends\n\nfrom api.handlers import Handlers, PerRequest\n\nh = Handlers()\n"
        f"p = PerRequest()\n{register}\n",
        {"api/handlers.py": HANDLERS},
    )


@pytest.mark.parametrize("register, function", [
    ('router.add_api_route("/count", h.count, methods=["GET"])', "Handlers.count"),
    ('router.get("/count")(h.count)', "Handlers.count"),
    ('router.api_route("/count", methods=["GET"])(h.via_helper)', "Handlers.via_helper"),
    ("router.include_router(h.router)", "Handlers.own"),
])
def test_a_route_bound_to_an_instance_keeping_a_session_is_kept_with_am126(app, reported, findings, register, function):
    router, files = _files(register)
    root = app(router, files)
    entry = reported(root, function, "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM126"), entry
    assert "`self.db`, opened once by the module-level instance `api.items.h`" in entry["reasons"][0], entry
    assert "a `Depends(get_db)` parameter of" in entry["reasons"][0], entry
    (finding,) = findings(root, function)
    assert finding["code"] == "AM301" and "phase one keeps it async" in finding["message"], finding


def test_a_dependency_bound_to_an_instance_keeping_a_session_is_kept(app, reported):
    router, files = _files(
        '@router.get("/n")\nasync def n(rows=Depends(h.count)):\n    return rows'
    )
    entry = reported(app(router, files), "Handlers.count", "phase1")
    assert (entry["kind"], entry["action"], entry["codes"][0]) == ("dependency", "keep", "AM126"), entry


def test_a_def_route_bound_to_an_instance_keeping_a_session_is_reported_by_check(app, findings):
    router, files = _files('router.add_api_route("/threaded", h.threaded, methods=["GET"])')
    (finding,) = findings(app(router, files), "Handlers.threaded")
    assert finding["code"] == "AM324" and "opened once by the module-level instance `api.items.h`" in finding["message"]


def test_near_miss_a_bound_route_taking_the_request_s_session_converts(app, reported):
    router, files = _files('router.add_api_route("/count", p.count, methods=["GET"])')
    entry = reported(app(router, files), "PerRequest.count", "phase1")
    assert entry["action"] == "convert" and "AM126" not in entry["codes"], entry
