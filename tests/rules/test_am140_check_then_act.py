"""AM140 on a check-then-act: a handler checking state every request shares, then changing it,
stays async (as `def`, two threads could both pass the check); the near misses convert."""

from __future__ import annotations

import ast

import pytest

ROUTE = """
import threading

{head}
SEEN: set[str] = set()
QUEUE: list[str] = []
COUNTS: dict[str, int] = {{}}
total = 0
_client = None
LOCK = threading.Lock()


class Registry:
    def __init__(self):
        self.keys: set[str] = set()
        self.count = 0

    def claim(self, key):
        if key in self.keys:
            return False
        self.keys.add(key)
        return True


registry = Registry()


def mark(key):
    if SEEN.get(key):
        raise KeyError(key)
    SEEN[key] = True


@router.post("/items/{{key}}")
async def create_item(key: str, session: session_dependency):
    {body}
    session.commit()
"""


def lines(root, *fragments):  # type: ignore[no-untyped-def]
    text = (root / "api/items.py").read_text().splitlines()
    return [next(n for n, line in enumerate(text, 1) if fragment in line) for fragment in fragments]


@pytest.mark.parametrize("body, subject, read, write", [
    # a set: membership, then `.add`
    ("if key in SEEN:\n        return None\n    SEEN.add(key)", "SEEN", "`key in SEEN` at line {0}", "`SEEN.add(key)` at line {1}"),
    # a dict: `.get`, then an item assigned
    ("if COUNTS.get(key):\n        return None\n    COUNTS[key] = 1", "COUNTS", "`COUNTS.get(key)`", "`COUNTS[key] = 1`"),
    # a list: `len`, then `.append`; `.pop` and `del`
    ("if len(QUEUE) >= 10:\n        return None\n    QUEUE.append(key)", "QUEUE", "`len(QUEUE)`", "`QUEUE.append(key)`"),
    ("if QUEUE:\n        QUEUE.pop()", "QUEUE", "`QUEUE` at line {0}", "`QUEUE.pop()` at line {1}"),
    ("if COUNTS[key] > 1:\n        del COUNTS[key]", "COUNTS", "`COUNTS[key]` at line {0}", "`del COUNTS[key]`"),
    # a counter value, read then rebound through `global`
    ("global total\n    seen = total\n    session.flush()\n    total = seen + 1", "total", "`total` at line {0}",
     "`total = seen + 1` at line {1}"),
    # an attribute of a module-level singleton
    ("if registry.count >= 3:\n        return None\n    registry.count = 4", "registry.count",
     "`registry.count >= 3`", "`registry.count = 4`"),
    # the application's state, through the request
    ("if key in request.app.state.keys:\n        return None\n    request.app.state.keys.add(key)",
     "request.app.state.keys", "`key in request.app.state.keys`", "`request.app.state.keys.add(key)`"),
])
def test_a_check_then_change_of_shared_state_keeps_the_handler_with_am140(app, reported, body, subject, read, write):
    source = ROUTE.format(body=body, head="from fastapi import Request")
    root = app(source.replace("key: str, session", "key: str, request: Request, session"))
    entry = reported(root, "create_item", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    reason = entry["reasons"][0]
    checked = next(line.strip() for line in body.splitlines() if not line.startswith("global"))
    at = lines(root, checked.rstrip(":"), body.splitlines()[-1].strip())
    assert reason.startswith(f"checks `{subject}` ("), reason
    assert read.format(*at) in reason and write.format(*at) in reason, reason
    assert "two could both pass the check" in reason, reason


@pytest.mark.parametrize("body, chain, check", [
    ("mark(key)", "`api.items.mark`", "checks `SEEN` (`SEEN.get(key)` at api/items.py:{0})"),
    # an instance attribute of a module-level singleton, through its method
    ("registry.claim(key)", "`api.items.Registry.claim`", "checks `self.keys` (`key in self.keys` at api/items.py:{0})"),
])
def test_a_check_then_change_in_a_helper_keeps_the_handler(app, reported, body, chain, check):
    root = app(ROUTE.format(body=body, head=""))
    entry = reported(root, "create_item", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    call, read = lines(root, f"    {body}", "SEEN.get(key)" if "mark" in body else "key in self.keys")
    assert entry["reasons"][0].startswith(f"calls {chain} (line {call}), which {check.format(read)}"), entry["reasons"][0]


@pytest.mark.parametrize("body", [
    "SEEN.add(key)",  # a change with no check: one step for a builtin set
    "if key in SEEN:\n        return None",  # a check with no change
    "with LOCK:\n        if key in SEEN:\n            return None\n        SEEN.add(key)",  # under one thread lock
    "seen = set()\n    if key in seen:\n        return None\n    seen.add(key)",  # a local of its own
    "global _client\n    if _client is None:\n        _client = object()",  # a lazy initialisation
    "COUNTS[key] = 1\n    if COUNTS.get(key):\n        return None",  # the change before the check
])
def test_near_miss_no_shared_check_then_change_converts(app, reported, body):
    assert reported(app(ROUTE.format(body=body, head="")), "create_item", "phase1")["action"] == "convert"


def test_a_project_objects_own_get_and_update_are_no_container_check(app, reported):
    # `crud.get(...)` then `crud.update(...)`: methods of a project class, not a dict's
    files = {"api/crud.py": "class Crud:\n    def get(self, db, key):\n        return None\n\n"
                            "    def update(self, db, key):\n        return None\n\n\ncrud = Crud()\n"}
    body = "if crud.get(session, key):\n        return None\n    crud.update(session, key)"
    root = app(ROUTE.format(body=body, head="from api.crud import crud"), files)
    assert reported(root, "create_item", "phase1")["action"] == "convert"


FACTORY = """
class Tally:
    def __init__(self, keys):
        self.seen = set()
        for key in keys:
            if key in self.seen:
                continue
            self.seen.add(key)


class Factory:
    def __init__(self):
        self.make_tally = Tally

    def build(self, keys):
        return self.make_tally(keys)


shared = Factory()
"""


@pytest.mark.parametrize("body", ["shared.make_tally([key])", "shared.build([key])"])
def test_a_new_object_built_through_a_shared_instance_is_not_shared(app, reported, body):
    # its `__init__` checks and changes its own `self`: a fresh instance, which no other request sees
    root = app(ROUTE.format(body=body, head="from api.factory import shared"), {"api/factory.py": FACTORY})
    assert reported(root, "create_item", "phase1")["action"] == "convert"
    # the shared instance's own check-then-act still keeps it
    shared = FACTORY.replace("return self.make_tally(keys)", "if keys[0] in self.seen:\n            return None\n"
                             "        self.seen.add(keys[0])").replace("self.make_tally = Tally", "self.seen = set()")
    root = app(ROUTE.format(body="shared.build([key])", head="from api.factory import shared"), {"api/factory.py": shared})
    assert reported(root, "create_item", "phase1")["codes"][0] == "AM140"


def test_check_gives_the_fix(app, findings):
    root = app(ROUTE.format(body="if key in SEEN:\n        return None\n    SEEN.add(key)", head=""))
    (finding,) = findings(root, "create_item")
    read, write = lines(root, "if key in SEEN", "SEEN.add(key)")
    assert f"the check of `SEEN` (`key in SEEN` at line {read}) and its change (`SEEN.add(key)` at line {write})" in (
        finding["message"]), finding
    assert "threading.Lock" in finding["message"], finding


def test_reads_and_changes_are_paired_by_path_and_order():
    from async_migrate.codemods.astcollect.check_then_act import accesses

    tree = ast.parse(
        "def f(self, k):\n    global N\n    if k in S: return\n    n = N\n    S.add(k)\n    N = n + 1\n"
        "    x = [y for y in T]\n    T.append(1)\n    self.seen.clear()\n"
    )
    found = accesses(tree.body[0].body, frozenset({"N"}), frozenset({"self", "k", "n", "x"}), "self")
    assert [(kind, path, line, changes) for kind, path, line, _, changes, _, _ in found] == [
        ("free", "S", 3, False), ("free", "N", 4, False), ("free", "S", 5, True), ("free", "N", 6, True),
    ]


# A helper checking and setting a module-level engine (fides' `get_api_session`), which the
# route's own `def` dependency runs too: FastAPI runs that dependency in worker threads on every
# request, so the check-then-set already runs beside the event loop and other workers, and the
# route's own call on the loop is not alone between the check and the change.
LAZY_ENGINE = """
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

_engine = None
_seen = set()


def get_api_session():
    global _engine
    if not _engine:
        _engine = create_engine("sqlite:///./app.db")
    return sessionmaker(bind=_engine)()


def get_db():
    db = get_api_session()
    try:
        yield db
    finally:
        db.close()


def read_salt():
    db = get_api_session()
    try:
        return db.execute(text("select 1")).scalar()
    finally:
        db.close()


def claim(key):
    if key in _seen:
        return False
    _seen.add(key)
    return True
"""
SALTED = """
from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.lazy import claim, get_db, read_salt


@router.post("/salted")
async def salted(db: Session = Depends({dependency})):
    db.execute(text("select 1"))
    db.commit()
    return {{"salt": {body}}}


@router.get("/open")
async def open_salt():
    return {{"salt": read_salt()}}
"""


def test_a_check_then_act_a_def_dependency_already_runs_in_threads_converts(app, reported):
    root = app(SALTED.format(dependency="get_db", body="read_salt()"), {"api/lazy.py": LAZY_ENGINE})
    entry = reported(root, "salted", "phase1")
    assert entry["action"] == "convert" and "AM140" not in entry["codes"], entry
    # any `def` handler running it makes it so, not only the route's own dependency
    assert reported(root, "open_salt", "phase1")["action"] == "convert"


def test_near_miss_a_check_then_act_only_the_event_loop_runs_keeps_the_route(app, reported):
    # `claim` runs on no worker thread: on the loop, nothing runs between its check and its change
    root = app(SALTED.format(dependency="get_db", body="claim('k')"), {"api/lazy.py": LAZY_ENGINE})
    entry = reported(root, "salted", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    # nor does the engine's, once no `def` dependency calls it
    lazy = LAZY_ENGINE.replace("def get_db():", "async def get_db():")
    root = app(SALTED.format(dependency="get_db", body="read_salt()"), {"api/lazy.py": lazy})
    assert reported(root, "open_salt", "phase1")["codes"][0] == "AM140"


# A class keeping one lock for all its callers in its body (`_lock = threading.Lock()`, feast's
# `HttpSessionManager`), taken through `cls` in a classmethod or `self` in a method: the check
# and the change made holding it are one step for every thread, as with a module-level lock.
CLASS_LOCK = """
import asyncio
import threading


class Sessions:
    _lock = {lock}
    _last: float | None = None
    _seen: set[str] = set()

    @classmethod
    def touch(cls, now: float) -> None:
        with cls._lock:
            if cls._last is None or now > cls._last:
                cls._last = now

    def remember(self, key: str) -> None:
        with self._lock:
            if key not in self._seen:
                self._seen.add(key)


SESSIONS = Sessions()


@router.get("/touch")
async def touch(session: session_dependency):
    Sessions.touch(1.0)
    SESSIONS.remember("k")
    return session.execute("select 1").all()
"""


def test_a_check_then_act_under_the_class_lock_through_cls_or_self_converts(app, reported):
    entry = reported(app(CLASS_LOCK.format(lock="threading.Lock()")), "touch", "phase1")
    assert entry["action"] == "convert", entry


def test_near_miss_an_asyncio_lock_in_the_class_body_keeps_it(app, reported):
    entry = reported(app(CLASS_LOCK.format(lock="asyncio.Lock()")), "touch", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM140"), entry
    assert "`cls._last`" in entry["reasons"][0], entry
