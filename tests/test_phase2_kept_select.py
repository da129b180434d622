"""A legacy Query kept in a variable and extended later: phase two writes it as a `select()` in
every place and runs it, awaited, where the Query ran; what it cannot follow stays blocked
(AM213), with the `select()` to keep instead. Migrated and RUN, as in test_phase2_soundness."""

from __future__ import annotations

import pytest
from test_phase2_identity_map import MODELS as RELATED_MODELS  # User.items, Item.owner
from test_phase2_rules import apply, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

KEPT_QUERY = """
@router.get("/items")
def list_items(db: session_dependency, owner_id: int | None = None):
    q = db.query(Item)
    if owner_id is not None:
        q = q.filter(Item.owner_id == owner_id)
    return {"total": q.count(), "names": [i.name for i in q.order_by(Item.name).limit(5).all()]}
"""
KEPT_SELECT = """
@router.get("/items")
def list_items(db: session_dependency, owner_id: int | None = None):
    q = select(Item)
    if owner_id is not None:
        q = q.where(Item.owner_id == owner_id)
    total = db.scalar(select(func.count()).select_from(q.subquery()))
    return {"total": total, "names": [i.name for i in db.scalars(q.order_by(Item.name).limit(5)).all()]}
"""
SCRIPT = """
with Sync() as s:
    s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=2), Item(name="ink", owner_id=1)])
    s.commit()
print(json.dumps([client.get("/items").json(), client.get("/items", params={"owner_id": 1}).json()]))
"""
EXPECTED = [{"total": 3, "names": ["cup", "ink", "pen"]}, {"total": 2, "names": ["ink", "pen"]}]


@pytest.mark.parametrize("kind", KINDS)
def test_a_kept_query_migrates_as_a_select_and_answers_the_same(cli, service, kind):
    root = service({SUBSYSTEM: routes(KEPT_QUERY)})
    assert serve(root, "sqlite", SCRIPT) == EXPECTED
    found = handler(apply(cli, root), "list_items")
    assert found["action"] == "migrate", found
    text = (root / SUBSYSTEM).read_text()
    assert "q = select(Item)" in text and "q = q.where(Item.owner_id == owner_id)" in text
    assert "await db.scalar(select(func.count()).select_from(q.subquery()))" in text
    assert serve(root, kind, SCRIPT) == EXPECTED


KEPT_SHAPES = """
@router.get("/items/first")
def first_item(db: session_dependency, owner_id: int | None = None):
    q = db.query(Item).order_by(Item.name)
    if owner_id is not None:
        q = q.filter(Item.owner_id == owner_id)
    first = q.first()
    names = [row.name for row in db.query(Item.name).all()]
    if not q.count():
        return {"first": None}
    return {"first": first.name, "one": q.filter(Item.name == first.name).one().name, "names": names}


@router.get("/items/columns")
def item_columns(db: session_dependency, owner_id: int = 1):
    q = db.query(Item.name, Item.owner_id)
    q = q.filter(Item.owner_id == owner_id).order_by(Item.name)
    return [list(row) for row in q.all()]
"""
SHAPES_SCRIPT = """
with Sync() as s:
    s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=2), Item(name="ink", owner_id=1)])
    s.commit()
print(json.dumps([client.get("/items/first").json(), client.get("/items/first", params={"owner_id": 3}).json(),
                  client.get("/items/columns").json()]))
"""
SHAPES_EXPECTED = [
    {"first": "cup", "one": "cup", "names": ["pen", "cup", "ink"]}, {"first": None},
    [["ink", 1], ["pen", 1]],
]


def test_kept_queries_run_by_first_one_count_and_on_columns_answer_the_same(cli, service):
    root = service({SUBSYSTEM: routes(KEPT_SHAPES)})
    assert serve(root, "sqlite", SHAPES_SCRIPT) == SHAPES_EXPECTED
    document = apply(cli, root)
    assert handler(document, "first_item")["action"] == "migrate"
    assert handler(document, "item_columns")["action"] == "migrate"
    text = (root / SUBSYSTEM).read_text()
    assert "(await db.execute(q.filter(Item.owner_id == owner_id)" not in text  # columns: rows, one statement
    assert "(await db.execute(q.all" not in text
    assert serve(root, "sqlite", SHAPES_SCRIPT) == SHAPES_EXPECTED


KEPT_RELATED = """
@router.get("/items")
def list_items(db: session_dependency, owner: str | None = None):
    q = db.query(Item).join(Item.owner)
    if owner is not None:
        q = q.filter(User.name == owner)
    items = q.order_by(Item.name).all()
    return {"total": q.count(), "items": [[i.name, i.owner.name] for i in items]}


@router.get("/users")
def list_users(db: session_dependency):
    q = db.query(User)
    q = q.order_by(User.id)
    return [[u.name, sorted(i.name for i in u.items)] for u in q.all()]
"""
RELATED_SCRIPT = """
with Sync() as s:  # the fixture's users: Ann (1) and Bob (2)
    s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=2), Item(name="ink", owner_id=1)])
    s.commit()
print(json.dumps([client.get("/items").json(), client.get("/items", params={"owner": "Ann"}).json(),
                  client.get("/users").json()]))
"""
RELATED_EXPECTED = [
    {"total": 3, "items": [["cup", "Bob"], ["ink", "Ann"], ["pen", "Ann"]]},
    {"total": 2, "items": [["ink", "Ann"], ["pen", "Ann"]]},
    [["Ann", ["ink", "pen"]], ["Bob", ["cup"]]],
]


@pytest.mark.parametrize("kind", KINDS)
def test_a_kept_query_whose_objects_read_a_relationship_gets_the_eager_load_at_its_head(cli, service, kind):
    root = service({"models.py": RELATED_MODELS, SUBSYSTEM: routes(KEPT_RELATED)})
    assert serve(root, "sqlite", RELATED_SCRIPT) == RELATED_EXPECTED
    document = apply(cli, root)
    assert handler(document, "list_items")["action"] == "migrate"
    assert handler(document, "list_users")["action"] == "migrate"
    text = (root / SUBSYSTEM).read_text()
    assert "q = select(Item).options(" in text and "q = select(User).options(selectinload(User.items))" in text
    # counted with the loader option on: the count is still of the rows, not of a join it adds
    assert serve(root, kind, RELATED_SCRIPT) == RELATED_EXPECTED


# Each keeps the Query where the tool cannot follow it whole: it stays blocked, the advice given.
NEAR_MISSES = {
    "returned": "    q = db.query(Item)\n    return [i.name for i in q.all()] if owner_id else q\n",
    "passed on": "    q = db.query(Item)\n    print(q)\n    return [i.name for i in q.all()]\n",
    "iterated": "    q = db.query(Item)\n    q = q.filter(Item.owner_id == owner_id)\n    return [i.name for i in q]\n",
    "read in a lambda": "    q = db.query(Item)\n    run = lambda: q.all()\n    return [i.name for i in run()]\n",
    "annotated": "    q: Query = db.query(Item)\n    return [i.name for i in q.all()]\n",
    "extended by an unmapped method": "    q = db.query(Item)\n    q = q.filter(Item.owner_id == owner_id).from_self()\n"
                                       "    return [i.name for i in q.all()]\n",
    "counted under FOR UPDATE": "    q = db.query(Item).with_for_update()\n    if owner_id:\n"
                                "        q = q.filter(Item.owner_id == owner_id)\n    return {\"n\": q.count()}\n",
    "built twice": "    q = db.query(Item)\n    if owner_id:\n        q = db.query(Item).filter(Item.owner_id == owner_id)\n"
                   "    return [i.name for i in q.all()]\n",
    "filter_by and a join": "    q = db.query(Item)\n    for _ in range(2):\n        q = q.filter_by(owner_id=owner_id)\n"
                            "        q = q.join(Item.owner)\n    return [i.name for i in q.all()]\n",
    "deleted through": "    q = db.query(Item).filter(Item.owner_id == owner_id)\n    return {\"gone\": q.delete()}\n",
}


@pytest.mark.parametrize("shape", sorted(NEAR_MISSES))
def test_near_miss_a_query_kept_where_the_tool_cannot_follow_it_stays_blocked(cli, service, shape):
    body = NEAR_MISSES[shape]
    root = service({SUBSYSTEM: routes(f"""
@router.get("/items")
def list_items(db: session_dependency, owner_id: int | None = None):
{body}""")})
    before = (root / SUBSYSTEM).read_text()
    found = handler(apply(cli, root), "list_items")
    assert (found["action"], set(found["codes"])) == ("blocked", {"AM213"}), found
    assert (root / SUBSYSTEM).read_text() == before
    if shape == "counted under FOR UPDATE":  # followed, and the whole chain judged
        assert found["reasons"][0].startswith(
            "api/items.py:14: `q` keeps a legacy Query that runs as `db.query(Item).with_for_update().filter(Item.owner_id == "
            "owner_id).count()`: `.count()` after `.with_for_update()`"), found["reasons"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_select_kept_instead_migrates_and_answers_the_same(cli, service, kind):
    root = service({SUBSYSTEM: routes(KEPT_SELECT)})
    found = handler(apply(cli, root), "list_items")
    assert found["action"] == "migrate", found
    assert serve(root, kind, SCRIPT) == EXPECTED


# The module's own `select` and `func` (a project's helpers, not SQLAlchemy's): the statement
# the rewrite writes must not rebind them, nor be built with them.
OWN_NAMES = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from labels import func, select
from models import Item

router = APIRouter()


@router.get("/items")
def list_items(db: session_dependency, owner_id: int = 1):
    q = db.query(Item).filter(Item.owner_id == owner_id)
    return {"total": q.count(), "names": select([i.name for i in db.query(Item).order_by(Item.name).all()]), "f": func()}
"""
LABELS = """
def select(names):
    return ", ".join(names)


def func():
    return "mine"
"""


def test_a_module_binding_select_or_func_to_its_own_keeps_them_and_the_statement_imports_its_own(cli, service):
    root = service({SUBSYSTEM: OWN_NAMES, "labels.py": LABELS})
    document = apply(cli, root)
    assert handler(document, "list_items")["action"] == "migrate"
    text = (root / SUBSYSTEM).read_text()
    assert "from sqlalchemy import func as func_2, select as select_2" in text
    assert "from labels import func, select" in text and "\nfrom sqlalchemy import select\n" not in text
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=2), Item(name="ink", owner_id=1)])
            s.commit()
        print(json.dumps(client.get("/items").json()))
    """)
    assert result == {"total": 2, "names": "cup, ink, pen", "f": "mine"}


SHADOWING_PARAMETER = """
@router.get("/items")
def list_items(db: session_dependency, select: bool = False):
    return {"names": [i.name for i in db.query(Item).order_by(Item.name).all()], "select": select}
"""


def test_a_parameter_named_select_is_not_called_for_the_statement(cli, service):
    root = service({SUBSYSTEM: routes(SHADOWING_PARAMETER)})
    assert handler(apply(cli, root), "list_items")["action"] == "migrate"
    assert "(await db.scalars(select_2(Item).order_by(Item.name))).unique().all()" in (root / SUBSYSTEM).read_text()
    result = serve(root, "sqlite", """
        with Sync() as s:
            s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=2)])
            s.commit()
        print(json.dumps(client.get("/items", params={"select": True}).json()))
    """)
    assert result == {"names": ["cup", "pen"], "select": True}
