"""A helper's local name bound by a conditional expression to one of two Sessions
(`s = audit_db if audit_db is not None else db`, `s = db if db is not None else SessionLocal`):
the name may hold either branch, and phase two reads its work as work on both."""

from __future__ import annotations

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


@pytest.mark.parametrize("crud", [CRUD_EITHER_PARAM, CRUD_EITHER_SCOPED], ids=["two-parameters", "scoped-global"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_session_chosen_by_a_conditional_expression_blocks_and_the_write_lands(cli, service, kind, crud):
    # Migrated, `s.commit()` was left unawaited on the AsyncSession: a 200 with `"id": null`, nothing saved.
    root = service({"services/__init__.py": "", "services/crud.py": crud, SUBSYSTEM: _routes()})
    before = function(root, "services/crud.py", "add_item")
    document = apply(cli, root)
    entry = handler(document, "create_item")
    assert entry["action"] == "blocked", entry["reasons"]
    assert any("services/crud.py" in r and "s.commit()" in r for r in entry["reasons"]), entry["reasons"]
    # nothing half-migrated: the helper is as it was, and no twin with an unawaited commit
    assert function(root, "services/crud.py", "add_item") == before
    assert "add_item_async" not in (root / "services/crud.py").read_text(encoding="utf-8")
    assert serve(root, kind, WRITE) == {"status": 200, "id": 1, "names": ["kept"]}
