"""AM301 blocking-session beside a Session a function binds as an attribute of a module-level
object: a lazy getter on a `threading.local()` (`if not hasattr(_local, "session"): _local.session
= database_sessionmaker()`, `return _local.session`) or a start-up function's `registry.db =
database_sessionmaker()`. The flow now reads what such a binding builds, so a route using it does
Session work on the event loop; the thread-local one is each thread's own (AM141's reason, not a
Session the process shares), the registry's one every request shares."""

from __future__ import annotations

import pytest

LOCAL = """
import threading

from sqlalchemy import select

from db.engine import database_sessionmaker
from models import Book

_local = threading.local()


def current_session():
    if not hasattr(_local, "session"):
        _local.session = database_sessionmaker()
    return _local.session


@router.get("/count")
async def count():
    return {"n": len(current_session().scalars(select(Book.id)).all())}
"""

REGISTRY = """
from sqlalchemy import select

from db.engine import database_sessionmaker
from models import Book


class Registry:
    pass


registry = Registry()


def start():
    registry.db = VALUE


@router.get("/count")
async def count():
    return {"n": len(registry.db.scalars(select(Book.id)).all())}
"""


def test_a_session_a_lazy_getter_keeps_on_a_thread_local_blocks(app, findings, reported):
    root = app(LOCAL)
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM301"], found
    entry = reported(root, "count", "phase1")
    assert entry["action"] == "keep"
    assert "AM141" in entry["codes"], entry
    assert not any("the whole process shares" in reason for reason in entry["reasons"]), entry


def test_a_session_a_function_binds_on_a_module_level_object_blocks(app, findings, reported):
    root = app(REGISTRY.replace("VALUE", "database_sessionmaker()"))
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM301"], found
    entry = reported(root, "count", "phase1")
    assert entry["action"] == "keep"
    assert any("a Session a function binds on the module-level `registry`" in r for r in entry["reasons"]), entry


@pytest.mark.parametrize("value", ["Registry()", "str(1)"])
def test_near_miss_what_the_function_binds_is_no_session(app, findings, value):
    root = app(REGISTRY.replace("VALUE", value))
    codes = [f["code"] for f in findings(root, "count")]
    assert "AM301" not in codes, codes
