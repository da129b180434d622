"""Phase two and legacy Query chains handed their criteria starred (`.filter(*conditions)`,
`.filter_by(**keys)`, `.order_by(*order)`), as helpers building a query at run time write them
(mlrun's `session.query(cls).filter_by(**kw)`, fides' `db.query(cls).filter_by(**kwargs).first()`).

`Select.where()`, `filter_by()`, `order_by()`, `group_by()`, `distinct()` and `options()` take
the same `*args` / `**kwargs` as the Query methods they replace, with the same meaning, so the
starred argument is handed on as written: no less readable than a named one. The helpers
migrate and RUN on SQLite, PostgreSQL and MariaDB: what the routes answer and what they wrote is
read back. A star the `select()` form takes otherwise (`.join(*targets)`, `.filter(**keys)`)
still blocks, naming the method.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler, helper, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

CRUD = """
from sqlalchemy.orm import Session

from models import Item


def find_items(db: Session, *conditions, **keys) -> list[str]:
    order = [Item.name.desc(), Item.id]
    found = db.query(Item).filter(*conditions).filter_by(**keys).order_by(*order).all()
    return [item.name for item in found]


def first_item(db: Session, **keys) -> str | None:
    item = db.query(Item).filter_by(**keys).order_by(Item.id).first()
    return None if item is None else item.name


def count_items(db: Session, *conditions) -> int:
    return db.query(Item).filter(*conditions).count()


def remove_items(db: Session, **keys) -> int:
    removed = db.query(Item).filter_by(**keys).delete(synchronize_session="fetch")
    db.commit()
    return removed
"""
ROUTES = """
import crud


@router.post("/items")
def add_item(name: str, owner_id: int, db: Session = Depends(get_db_session)):
    item = Item(name=name, owner_id=owner_id)
    db.add(item)
    db.commit()
    return {"id": item.id}


@router.get("/items")
def list_items(owner_id: int, skip: str = "", db: Session = Depends(get_db_session)):
    return crud.find_items(db, Item.name != skip, owner_id=owner_id)


@router.get("/items/first")
def first(owner_id: int, db: Session = Depends(get_db_session)):
    return {"name": crud.first_item(db, owner_id=owner_id)}


@router.get("/items/count")
def count(db: Session = Depends(get_db_session)):
    return {"count": crud.count_items(db, Item.owner_id == 1, Item.name != "cap")}


@router.delete("/items")
def remove(owner_id: int, db: Session = Depends(get_db_session)):
    return {"removed": crud.remove_items(db, owner_id=owner_id)}
"""
RUN = """
for name, owner in (("pen", 1), ("ink", 1), ("cap", 1), ("nib", 2)):
    client.post("/items", params={"name": name, "owner_id": owner})
answers = [
    client.get("/items", params={"owner_id": 1, "skip": "ink"}).json(),
    client.get("/items/first", params={"owner_id": 2}).json(),
    client.get("/items/count").json(),
    client.delete("/items", params={"owner_id": 1}).json(),
    client.get("/items/first", params={"owner_id": 1}).json(),
]
with Sync() as s:
    stored = list(s.scalars(select(Item.name).order_by(Item.id)))
print(json.dumps([answers, stored]))
"""
EXPECTED = [[["pen", "cap"], {"name": "nib"}, {"count": 2}, {"removed": 3}, {"name": None}], ["nib"]]
HELPERS = ("find_items", "first_item", "count_items", "remove_items")


@pytest.mark.parametrize("kind", KINDS)
def test_starred_criteria_are_handed_on_and_the_helpers_run(cli, service, kind):
    root = service({"crud.py": CRUD, SUBSYSTEM: routes(ROUTES)})
    assert serve(root, kind, RUN) == EXPECTED
    document = apply(cli, root)
    for name in ("add_item", "list_items", "first", "count", "remove"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    for name in HELPERS:
        assert helper(document, name)["action"] == "migrate", helper(document, name)
    text = read(root, "crud.py")
    assert ".query(" not in text, text
    assert "select(Item).where(*conditions).filter_by(**keys).order_by(*order)" in text, text
    assert "delete(Item).filter_by(**keys).execution_options(synchronize_session=\"fetch\")" in text, text
    # the rows the migrated routes wrote and removed are read back on a synchronous Session
    assert serve(root, kind, RUN) == EXPECTED
    assert run(cli, root)["files_changed"] == []


def test_a_star_the_select_form_takes_otherwise_still_blocks(cli, service):
    # `Query.join(*props)` took several targets before 2.0; `Select.join()` takes one.
    crud = CRUD.replace(
        "db.query(Item).filter(*conditions).filter_by(**keys).order_by(*order).all()",
        "db.query(Item).join(*conditions).filter_by(**keys).order_by(*order).all()",
    )
    root = service({"crud.py": crud, SUBSYSTEM: routes(ROUTES)})
    document = run(cli, root)
    blocked = handler(document, "list_items")
    assert blocked["action"] == "blocked"
    assert any("`*args`/`**kwargs` in `.join()`" in reason for reason in blocked["reasons"]), blocked
    # the other helpers' stars carry over
    assert handler(document, "first")["action"] == "migrate"
    assert handler(document, "remove")["action"] == "migrate"
