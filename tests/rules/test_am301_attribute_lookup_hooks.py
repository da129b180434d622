"""AM301 blocking-session: an attribute read that runs project code doing Session work.

`store.alice` runs `Store.__getattr__` when the class declares no `alice`, every read runs a
`__getattribute__`, and `obj.field` or `Cls.field` runs the `__get__` of a descriptor the class
body assigns: the read is followed as a call is (a property's already was), so `check` reports
the Session work it does on the event loop, and phase one reads it as the route's own.
"""

from __future__ import annotations

import pytest

STORE = """
from sqlalchemy import text

from db.engine import database_sessionmaker as SessionLocal


class ByName:
    def __getattr__(self, name):
        with SessionLocal() as s:
            return s.execute(text("select 1")).first()


class EveryRead:
    def __getattribute__(self, name):
        with SessionLocal() as s:
            return s.execute(text("select 1")).first()


class Lookup:
    def __get__(self, obj, owner=None):
        with SessionLocal() as s:
            return s.execute(text("select 1")).first()


class WithDescriptor:
    alice = Lookup()


class Declared:
    alice = None

    def __getattr__(self, name):
        with SessionLocal() as s:
            return s.execute(text("select 1")).first()


class Held:
    def __init__(self):
        self.db = SessionLocal()

    def __getattr__(self, name):
        return self.db.execute(text("select 1")).first()


class HeldProperty:
    def __init__(self):
        self.db = SessionLocal()

    @property
    def alice(self):
        return self.db.execute(text("select 1")).first()


by_name = ByName()
held_property = HeldProperty()
every_read = EveryRead()
with_descriptor = WithDescriptor()
declared = Declared()
held = Held()
"""

ROUTE = """
from api.store import ByName, WithDescriptor, by_name, declared, every_read, held, held_property, with_descriptor


@router.get("/alice")
async def alice():
    {body}
"""


@pytest.mark.parametrize("body, runs", [
    ("return {'found': by_name.alice is not None}", "ByName.__getattr__"),
    ("store = ByName()\n    return {'found': store.alice is not None}", "ByName.__getattr__"),
    ("return {'found': every_read.alice is not None}", "EveryRead.__getattribute__"),
    ("return {'found': with_descriptor.alice is not None}", "Lookup.__get__"),
    ("return {'found': WithDescriptor.alice is not None}", "Lookup.__get__"),
])
def test_a_read_running_session_work_is_reported_and_converts(app, reported, findings, body, runs):
    root = app(ROUTE.format(body=body), {"api/store.py": STORE})
    (finding,) = findings(root, "alice")
    assert finding["code"] == "AM301" and runs in finding["message"], finding
    entry = reported(root, "alice", "phase1")
    assert entry["action"] == "convert" and runs in entry["reasons"][0], entry


@pytest.mark.parametrize("instance", ["held", "held_property"])
def test_a_read_running_work_on_a_session_the_instance_keeps_is_kept_with_am126(app, reported, instance):
    root = app(ROUTE.format(body=f"return {{'found': {instance}.alice is not None}}"), {"api/store.py": STORE})
    entry = reported(root, "alice", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM126"), entry
    assert f"opened once by the module-level instance `api.store.{instance}`" in entry["reasons"][0], entry


def test_near_miss_a_declared_attribute_runs_no_getattr(app, reported, findings):
    root = app(ROUTE.format(body="return {'found': declared.alice is not None}"), {"api/store.py": STORE})
    assert findings(root, "alice") == []
    assert reported(root, "alice", "phase1")["codes"] == ["AM105"]
