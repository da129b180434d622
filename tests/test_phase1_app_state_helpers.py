"""A Session (or `scoped_session` registry) the application's state keeps, reached from a helper.

A helper handed the route's request unannotated (`def count_rows(request):`) that opened
`request.app.state.maker()` read as doing no Session work: phase one kept the route async
"doing no synchronous Session work" and `check` passed it, though it blocks the event loop. The
parameter holds the request when every call naming the helper hands it one, as an annotated one
does. And a helper importing the module-level application calling `app.state.registry()` on a
`scoped_session` the module keeps there (`app.state.registry = scoped_session(maker)`) was
said to use "one Session the whole process shares, created once at import time", where calling
the registry gives the calling thread's Session, as calling a module-level registry does. A
Session instance the module keeps there (`app.state.db = SessionLocal()`) is that one Session,
which read as no Session work at all when the attribute was not named like one.
"""

from __future__ import annotations

import pytest

MAIN = """
from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

engine = create_engine("sqlite:///./app.db")
app = FastAPI()
app.state.maker = {kept}

from svc import routes  # noqa: E402

app.include_router(routes.router)
"""
BY_REQUEST = """
from sqlalchemy import text


def count_rows(request):
    s = request.app.state.maker()
    try:
        return s.execute(text("select 1")).scalar()
    finally:
        {close}
"""
BY_APP = """
from sqlalchemy import text

from svc.main import app


def count_rows():
    s = app.state.maker()
    try:
        return s.execute(text("select 1")).scalar()
    finally:
        {close}
"""
ROUTES = """
from fastapi import APIRouter, Request

from svc.helpers import count_rows

router = APIRouter()


@router.get("/count")
async def count(request: Request):
    return {{"n": count_rows({argument})}}
"""
MAKER = "sessionmaker(engine)"
REGISTRY = "scoped_session(sessionmaker(engine))"


def _service(project, kept: str, helper: str, close: str, argument: str, extra: str = ""):  # type: ignore[no-untyped-def]
    return project({
        "svc/__init__.py": "",
        "svc/main.py": MAIN.format(kept=kept),
        "svc/helpers.py": helper.format(close=close),
        "svc/routes.py": ROUTES.format(argument=argument) + extra,
    })


def _count(cli, root):  # type: ignore[no-untyped-def]
    handlers = cli.json("phase1", "--no-cache", str(root))["handlers"]
    return next(h for h in handlers if h["function"] == "count")


@pytest.mark.parametrize(
    ("kept", "close"),
    [(MAKER, "s.close()"), (REGISTRY, "request.app.state.maker.remove()")],
    ids=["sessionmaker", "registry-removed-in-finally"],
)
def test_a_helper_handed_the_request_opening_the_state_maker_converts(cli, project, kept, close):
    root = _service(project, kept, BY_REQUEST, close, "request")
    found = _count(cli, root)
    assert found["action"] == "convert", found
    assert "s = request.app.state.maker() -> s.execute()" in found["reasons"][0]
    findings = cli.json("check", "--no-cache", str(root))["findings"]
    assert [f["code"] for f in findings] == ["AM301"]


def test_a_helper_not_always_handed_the_request_is_not_read_as_holding_it(cli, project):
    # near miss: another call hands the parameter something else, so `request.app.state` on it
    # names no application's state
    other = "\n\nclass Carrier:\n    pass\n\n\ndef elsewhere():\n    return count_rows(Carrier())\n"
    root = _service(project, MAKER, BY_REQUEST, "s.close()", "request", other)
    assert _count(cli, root)["action"] != "convert"


def test_the_module_applications_registry_called_from_a_helper_is_the_threads_session(cli, project):
    root = _service(project, REGISTRY, BY_APP, "app.state.maker.remove()", "")
    found = _count(cli, root)
    assert found["action"] == "convert", found
    assert "created once at import time" not in " ".join(found["reasons"])


def test_the_module_applications_registry_left_unremoved_keeps_its_route(cli, project):
    # near miss: with no `remove()` the thread's Session stays open in each worker (AM132)
    root = _service(project, REGISTRY, BY_APP, "pass", "")
    found = _count(cli, root)
    assert found["action"] == "keep"
    assert "AM132" in found["codes"]
    assert "created once at import time" not in " ".join(found["reasons"])


@pytest.mark.parametrize("argument", ["request", ""], ids=["by-request", "by-imported-app"])
def test_a_session_kept_on_the_state_at_import_is_the_process_wide_one(cli, project, argument):
    # before: "does no synchronous Session work" (the state's value untyped, named unlike a
    # Session), and `check` passed the route; converting it would share one Session across threads
    helper = (BY_REQUEST if argument else BY_APP).replace("s = request.app.state.maker()", "s = request.app.state.maker")
    helper = helper.replace("s = app.state.maker()", "s = app.state.maker")
    root = _service(project, "sessionmaker(engine)()", helper, "pass", argument)
    found = _count(cli, root)
    assert found["action"] == "keep", found
    assert "AM126" in found["codes"]
    assert "created once at import time (svc/main.py:7)" in found["reasons"][0]
    findings = cli.json("check", "--no-cache", str(root))["findings"]
    assert [f["code"] for f in findings] == ["AM301"]
