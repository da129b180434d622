"""AM304 unverified-session beside a table of dependencies declared a `TypedDict`: `DEPS: Deps`
whose fields are `Optional[type[Interface]]` and project objects, changed by code elsewhere
(`DEPS["interface_class"] = tmp`, a test's override). Calling a value taken out of it constructs
the declared class or a subclass (their `__init__`) or runs an object's `__call__`: those are
followed, not left unread; a field declared anything else (a `Callable`) still leaves it unread."""

from __future__ import annotations

import pytest

DEPENDENCIES = """
from typing import Callable, Optional, TypedDict

from sqlalchemy import text

from db.engine import database_sessionmaker


class Interface:
    def __init__(self, config):
        self.config = config


class Blocking(Interface):
    def __init__(self, config):
        with database_sessionmaker() as session:
            session.execute(text("select 1"))
        super().__init__(config)


class Config:
    url = "sqlite://"


class Deps(TypedDict):
    config: Optional[Config]
    interface_class: Optional[type["Interface"]]
    {extra}


DEPS: Deps = {{"config": None, "interface_class": None}}


def provide():
    interface_class = DEPS.get("interface_class")
    if interface_class is None:
        interface_class = Interface
    return interface_class(Config())


def override(tmp: Optional[type[Interface]]):
    DEPS["interface_class"] = tmp
"""
ROUTE = """
from deps import provide


@router.get("/interface")
async def interface():
    return {"ok": provide() is not None}
"""


def test_a_subclass_the_declared_field_may_hold_is_followed(app, reported):
    root = app(ROUTE, {"deps.py": DEPENDENCIES.format(extra="")})
    entry = reported(root, "interface", "phase1")
    # Blocking.__init__, a subclass the field may hold, opens a synchronous Session
    assert entry["action"] == "convert", entry
    assert not any("runs a value taken from" in r for r in entry["reasons"]), entry


@pytest.mark.parametrize("extra", ["hook: Optional[Callable[[], Interface]]", "raw: Optional[object]"])
def test_near_miss_a_field_of_another_type_leaves_the_table_unread(app, findings, extra):
    root = app(ROUTE, {"deps.py": DEPENDENCIES.format(extra=extra)})
    found = findings(root, "interface")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "runs a value taken from `DEPS`, which code elsewhere changes" in found[0]["message"], found
