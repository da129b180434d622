"""A helper reaching its Session through a name the flow does not follow as a plain alias:
bound by a conditional expression to one of two Sessions (`s = audit_db if audit_db is not
None else db`, `s = db if db is not None else SessionLocal`), a parameter falling back on a
`scoped_session` global (`db = db or SessionLocal`, `db: Session = SessionLocal`), by `:=`, or out of a display
(`s, n = db, name`, `for s in [db]`, `ctx = {"db": db}`). Migrated, its calls through that
name were left unawaited on the AsyncSession; each blocks the route instead."""

from __future__ import annotations

import textwrap

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

CRUD_EITHER_PARAM = """
from sqlalchemy.orm import Session

from models import Item


def add_item(db: Session, name: str, audit_db: Session | None = None) -> Item:
    s = audit_db if audit_db is not None else db
    item = Item(name=name, owner_id=1)
    s.add(item)
    s.commit()
    return item
"""
CRUD_EITHER_SCOPED = """
from sqlalchemy.orm import Session, scoped_session

from db.engine import database_sessionmaker
from models import Item

SessionLocal = scoped_session(database_sessionmaker)


def add_item(name: str, db: Session | None = None) -> Item:
    s = db if db is not None else SessionLocal
    item = Item(name=name, owner_id=1)
    s.add(item)
    s.commit()
    return item
"""
CRUD_OR_SCOPED = CRUD_EITHER_SCOPED.replace(
    "    s = db if db is not None else SessionLocal\n", "    db = db or SessionLocal\n"
).replace("    s.", "    db.")
CRUD_DEFAULT_SCOPED = CRUD_EITHER_SCOPED.replace("db: Session | None = None", "db: Session = SessionLocal").replace(
    "    s = db if db is not None else SessionLocal\n", ""
).replace("    s.", "    db.")
SCOPED_FALLBACKS = (CRUD_EITHER_SCOPED, CRUD_OR_SCOPED, CRUD_DEFAULT_SCOPED)
CREATE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    item = crud.add_item(name=name, db=db)
    return {"id": item.id}
"""


def _routes() -> str:
    return routes(CREATE).replace("from models import Item, User", "from models import Item, User\nfrom services import crud")


WRITE = """
    response = client.post("/items", params={"name": "kept"})
    with Sync() as s:
        names = s.scalars(select(Item.name)).all()
    print(json.dumps({"status": response.status_code, "id": response.json()["id"], "names": names}))
"""


@pytest.mark.parametrize(
    "crud",
    [CRUD_EITHER_PARAM, *SCOPED_FALLBACKS],
    ids=["two-parameters", "scoped-global", "or-scoped-global", "default-scoped-global"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_a_session_chosen_by_a_conditional_expression_blocks_and_the_write_lands(cli, service, kind, crud):
    # Migrated, `s.commit()` was left unawaited on the AsyncSession: a 200 with `"id": null`, nothing saved.
    root = service({"services/__init__.py": "", "services/crud.py": crud, SUBSYSTEM: _routes()})
    before = function(root, "services/crud.py", "add_item")
    document = apply(cli, root)
    entry = handler(document, "create_item")
    assert entry["action"] == "blocked", entry["reasons"]
    assert any("services/crud.py" in r and ".commit()" in r for r in entry["reasons"]), entry["reasons"]
    if crud in SCOPED_FALLBACKS:
        assert any("may hold the module-level `scoped_session` `SessionLocal`" in r for r in entry["reasons"])
    # nothing half-migrated: the helper is as it was, and no twin with an unawaited commit
    assert function(root, "services/crud.py", "add_item") == before
    assert "add_item_async" not in (root / "services/crud.py").read_text(encoding="utf-8")
    assert serve(root, kind, WRITE) == {"status": 200, "id": 1, "names": ["kept"]}


HIDDEN = {
    "walrus": """
        if (s := db) is not None:
            s.add(Item(name=name, owner_id=1))
            s.commit()
    """,
    "tuple": """
        s, n = db, name
        s.add(Item(name=n, owner_id=1))
        s.commit()
    """,
    "list": """
        sessions = [db]
        for s in sessions:
            s.add(Item(name=name, owner_id=1))
            s.commit()
    """,
    "loop": """
        for s in (db,):
            s.add(Item(name=name, owner_id=1))
            s.commit()
    """,
    "dict": """
        ctx = {"db": db}
        ctx["db"].add(Item(name=name, owner_id=1))
        ctx["db"].commit()
    """,
}
HIDDEN_ROUTE = """
@router.post("/items")
def create_item(name: str, db: session_dependency):
    crud.add_item(db, name)
    return {"id": 1}
"""


def _hidden(body: str) -> str:
    lines = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    return f"from sqlalchemy.orm import Session\n\nfrom models import Item\n\n\ndef add_item(db: Session, name: str) -> None:\n{lines}\n"


@pytest.mark.parametrize("shape", sorted(HIDDEN))
def test_the_session_held_in_a_walrus_or_a_display_blocks_with_am210_and_the_write_lands(cli, service, shape):
    crud = _hidden(HIDDEN[shape])
    root = service({
        "services/__init__.py": "",
        "services/crud.py": crud,
        SUBSYSTEM: routes(HIDDEN_ROUTE).replace(
            "from models import Item, User", "from models import Item, User\nfrom services import crud"
        ),
    })
    document = apply(cli, root)
    entry = handler(document, "create_item")
    assert entry["action"] == "blocked", entry["reasons"]
    assert "AM210" in entry["codes"], entry
    assert any("puts the Session `db`" in r for r in entry["reasons"]), entry["reasons"]
    assert (root / "services/crud.py").read_text(encoding="utf-8") == crud
    assert serve(root, "sqlite", WRITE) == {"status": 200, "id": 1, "names": ["kept"]}


def test_near_miss_a_display_of_other_values_beside_the_session_call_migrates_and_writes(cli, service):
    crud = _hidden("""
        labels = [name, name.upper()]
        db.add(Item(name=labels[0], owner_id=1))
        db.commit()
    """)
    root = service({
        "services/__init__.py": "",
        "services/crud.py": crud,
        SUBSYSTEM: routes(HIDDEN_ROUTE).replace(
            "from models import Item, User", "from models import Item, User\nfrom services import crud"
        ),
    })
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")["reasons"]
    assert "await db.commit()" in function(root, "services/crud.py", "add_item")
    assert serve(root, "sqlite", WRITE) == {"status": 200, "id": 1, "names": ["kept"]}
