"""A helper taking an optional Session that opens its own when called without one
(`db: Session | None = None`), called by a route with the request's Session and by a job with
none. Opened from the sessionmaker in an `if` and closed in a `finally` (under the flag it set,
or always), its twin opens from the async sessionmaker and awaits the closing: the route's write
and the job's both land. Bound by `db = db or SessionLocal()`, a conditional expression or a
getter, nothing closes the fallback and phase two does not move it: the helper blocks (AM329)
naming the line, where it blocked with a reason that misnamed it (a Session not received as a
parameter; a close "not in a finally" that was in one). Opened in a `with` branch of its own
(`if db is None: with SessionLocal() as db: return add_item(name, db)`) it twins as any `with`;
entered through `nullcontext(db) if db is not None else SessionLocal()` it blocks, naming that
way through."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, function, handler, helper, read
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

FLAGGED = """
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Item


def add_item(name: str, db: Session | None = None) -> int:
    own = False
    if db is None:
        db = database_sessionmaker()
        own = True
    try:
        item = Item(name=name, owner_id=1)
        db.add(item)
        db.commit()
        return item.id
    finally:
        if own:
            db.close()
"""
CLOSED = {
    "flag-after-opening": FLAGGED,
    "flag-tested-by-the-if": FLAGGED.replace(
        "    own = False\n    if db is None:\n        db = database_sessionmaker()\n        own = True\n",
        "    own = db is None\n    if own:\n        db = database_sessionmaker()\n",
    ),
    "closed-always": FLAGGED.replace("        if own:\n            db.close()", "        db.close()"),
    "opened-inside-the-try": FLAGGED.replace(
        "    own = False\n    if db is None:\n        db = database_sessionmaker()\n        own = True\n    try:\n",
        "    own = db is None\n    try:\n        if own:\n            db = database_sessionmaker()\n",
    ),
}
BRANCHED = {
    "recursive": """
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Item


def add_item(name: str, db: Session | None = None) -> int:
    if db is None:
        with database_sessionmaker() as db:
            return add_item(name, db)
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return item.id
""",
    "two-branches": """
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Item


def _add(name: str, db: Session) -> int:
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return item.id


def add_item(name: str, db: Session | None = None) -> int:
    if db is not None:
        return _add(name, db)
    with database_sessionmaker() as own:
        return _add(name, own)
""",
}
NULLCONTEXT = """
from contextlib import nullcontext

from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Item


def add_item(name: str, db: Session | None = None) -> int:
    with nullcontext(db) if db is not None else database_sessionmaker() as s:
        item = Item(name=name, owner_id=1)
        s.add(item)
        s.commit()
        return item.id
"""
UNCLOSED_OR = """
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Item


def add_item(name: str, db: Session | None = None) -> int:
    db = db or database_sessionmaker()
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return item.id
"""
UNCLOSED = {
    "or": (UNCLOSED_OR, "db", "database_sessionmaker()"),
    "conditional-expression": (
        UNCLOSED_OR.replace("db or database_sessionmaker()", "db if db is not None else database_sessionmaker()"),
        "db", "database_sessionmaker()",
    ),
    "getter": (
        UNCLOSED_OR.replace("def add_item", "def get_session() -> Session:\n    return database_sessionmaker()\n\n\ndef add_item")
        .replace("db = db or database_sessionmaker()", "session = session or get_session()")
        .replace("db: Session | None", "session: Session | None").replace("    db.", "    session."),
        "session", "get_session()",
    ),
}
JOB = """
from services.crud import add_item


def nightly() -> int:
    return add_item("nightly")
"""
CREATE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    return {"id": crud.add_item(name, db)}
"""
WRITES = """
    status = client.post("/items", params={{"name": "routed"}}).status_code
    {alone}
    with Sync() as s:
        names = sorted(s.scalars(select(Item.name)).all())
    print(json.dumps({{"status": status, "names": names}}))
"""


def _service(service, crud: str, job: bool):  # type: ignore[no-untyped-def]
    files = {
        "services/__init__.py": "",
        "services/crud.py": crud,
        SUBSYSTEM: routes(CREATE).replace("from models import Item, User", "from models import Item, User\nfrom services import crud"),
    }
    return service({**files, "jobs.py": JOB} if job else files)


@pytest.mark.parametrize("shape", sorted(CLOSED))
def test_a_fallback_closed_on_every_path_is_twinned_on_the_async_sessionmaker_and_both_callers_write(cli, service, shape):
    root = _service(service, CLOSED[shape], job=True)
    original = function(root, "services/crud.py", "add_item")
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert helper(document, "add_item")["action"] == "twin"
    assert function(root, "services/crud.py", "add_item") == original  # the job's sync helper is as it was
    twin = function(root, "services/crud.py", "add_item_async")
    assert "db: AsyncSession | None = None" in twin
    assert "db = async_database_sessionmaker()" in twin and "await db.close()" in twin
    assert "await crud.add_item_async(name, db)" in read(root, SUBSYSTEM)
    script = WRITES.format(alone="import jobs\n    jobs.nightly()")
    assert serve(root, "sqlite", script) == {"status": 200, "names": ["nightly", "routed"]}


def test_a_fallback_closed_on_every_path_migrates_in_place_and_its_fallback_writes_on_the_loop(cli, service):
    root = _service(service, FLAGGED, job=False)
    document = apply(cli, root)
    assert helper(document, "add_item")["action"] == "migrate"
    # the fallback branch, run on the application's loop: opened from the async sessionmaker
    script = WRITES.format(alone='import services.crud\n    client.portal.call(services.crud.add_item, "alone")')
    assert serve(root, "sqlite", script) == {"status": 200, "names": ["alone", "routed"]}


@pytest.mark.parametrize("shape", sorted(UNCLOSED))
def test_a_fallback_never_closed_blocks_with_am329_naming_it_and_the_writes_land(cli, service, shape):
    crud, param, opening = UNCLOSED[shape]
    root = _service(service, crud, job=True)
    before = read(root, "services/crud.py")
    document = apply(cli, root)
    line = next(n for n, text in enumerate(dedent(crud).splitlines(), 1) if f"{param} = {param} " in text)
    for entry in (handler(document, "create_item"), helper(document, "add_item")):
        assert (entry["action"], entry["codes"]) == ("blocked", ["AM329"]), entry
        assert entry["reasons"][0].startswith(
            f"services/crud.py:{line}: falls back on a Session of its own when called without one "
            f"(`{param}` bound to `{opening}` at line {line})"
        ), entry["reasons"]
    assert read(root, "services/crud.py") == before  # nothing half-migrated, no twin
    script = WRITES.format(alone="import jobs\n    jobs.nightly()")
    assert serve(root, "sqlite", script) == {"status": 200, "names": ["nightly", "routed"]}


@pytest.mark.parametrize("shape", sorted(BRANCHED))
def test_a_fallback_opened_in_a_with_branch_is_twinned_and_both_callers_write(cli, service, shape):
    # The way through the AM329 and nullcontext reasons name: the fallback as a `with` of its own.
    root = _service(service, BRANCHED[shape], job=True)
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate"
    assert "async with async_database_sessionmaker() as" in function(root, "services/crud.py", "add_item_async")
    script = WRITES.format(alone="import jobs\n    jobs.nightly()")
    assert serve(root, "sqlite", script) == {"status": 200, "names": ["nightly", "routed"]}


def test_a_fallback_entered_through_nullcontext_blocks_naming_the_way_through_and_the_writes_land(cli, service):
    root = _service(service, NULLCONTEXT, job=True)
    before = read(root, "services/crud.py")
    entry = handler(apply(cli, root), "create_item")
    assert (entry["action"], entry["codes"]) == ("blocked", ["AM215"]), entry
    assert entry["reasons"][0].startswith(
        "services/crud.py:10: enters the Session it is given through `contextlib.nullcontext()`, with a Session of its own"
    ), entry["reasons"]
    assert "if db is None: with SessionLocal() as db:" in entry["reasons"][0]
    assert read(root, "services/crud.py") == before
    script = WRITES.format(alone="import jobs\n    jobs.nightly()")
    assert serve(root, "sqlite", script) == {"status": 200, "names": ["nightly", "routed"]}
