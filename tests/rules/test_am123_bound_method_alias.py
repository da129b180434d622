"""AM123 / AM301: a module-level name bound to a method of a module-level instance
(`dispatch = bus.dispatch`), or of one built for it (`Bus().dispatch`), runs that method when
called: the route reaches its Session work."""

from __future__ import annotations

import pytest

BUS = """
from sqlalchemy import text

from db.engine import database_sessionmaker

SINK = []


class Bus:
    def dispatch(self, cmd):
        with database_sessionmaker() as session:
            session.execute(text("delete from items"))

    def log(self, cmd):
        SINK.append(cmd)


bus = Bus()
dispatch = bus.dispatch
handle = dispatch  # an alias of the alias
log = bus.log
fresh = Bus().dispatch  # the method of an instance built for it alone
fresh_log = Bus().log
"""


@pytest.mark.parametrize(("head", "call"), [
    ("from bus import dispatch", "dispatch(cmd)"),
    ("from bus import handle", "handle(cmd)"),
    ("import bus", "bus.dispatch(cmd)"),
    ("from bus import bus\n\n        run_it = bus.dispatch", "run_it(cmd)"),  # the alias in the route's module
    ("from bus import fresh", "fresh(cmd)"),
    ("from bus import Bus\n\n        run_it = Bus().dispatch", "run_it(cmd)"),
])
def test_an_alias_of_a_bound_method_doing_session_work_converts_with_am123(app, reported, findings, head, call):
    root = app(
        f"""
        {head}


        @router.post("/run/{{cmd}}")
        async def run(cmd: str):
            {call}
        """,
        {"bus.py": BUS},
    )
    entry = reported(root, "run", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM123"]), entry
    assert entry["reasons"][0].startswith("calls bus.Bus.dispatch"), entry
    assert [f["code"] for f in findings(root, "run")] == ["AM301"]


@pytest.mark.parametrize("name", ["log", "fresh_log"])
def test_near_miss_an_alias_of_a_bound_method_doing_no_session_work_keeps_with_am105(app, reported, findings, name):
    root = app(
        f"""
        from bus import {name}


        @router.post("/run/{{cmd}}")
        async def run(cmd: str):
            {name}(cmd)
        """,
        {"bus.py": BUS},
    )
    assert reported(root, "run", "phase1")["codes"] == ["AM105"]
    assert findings(root, "run") == []
