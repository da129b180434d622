"""A helper whose result is visibly values only (`[i.name for i in db.scalars(select(Item))]`,
dicts of column values) read after a commit: the synchronous sessionmaker's expiry reloads no
object there, so the route migrates instead of being blocked as a stale read with a fix
(`db.refresh(out)`) that would raise on a list of strings. The migrated code is RUN on each
database. A helper returning the objects themselves still blocks."""

from __future__ import annotations

import ast

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler
from test_phase2_soundness import ENGINE, KINDS, SUBSYSTEM, routes, serve

from async_migrate.codemods.phase2.returned_values import returns_values

EXPIRING = ENGINE.replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)")
assert EXPIRING != ENGINE

HELPERS = """
def names(db: Session):
    return [i.name for i in db.scalars(select(Item).order_by(Item.id))]


def audit(db: Session, n: int):
    db.add(Item(name=f"listed {n}", owner_id=1))
    db.commit()
"""
ROUTE = """
@router.get("/names")
def list_names(db: Session = Depends(get_db_session)):
    out = names(db)
    audit(db, len(out))
    return out
"""


_service = test_phase2_soundness.service


@pytest.fixture
def service(project):  # type: ignore[no-untyped-def]
    """The soundness application, its sessionmaker expiring objects on commit (the default)."""
    build = _service.__wrapped__(project)  # type: ignore[attr-defined]
    return lambda files: build({"db/engine.py": EXPIRING, **files})


@pytest.mark.parametrize("kind", KINDS)
def test_a_list_of_column_values_read_after_a_commit_migrates(cli, service, kind):
    root = service({SUBSYSTEM: routes(HELPERS, ROUTE)})
    document = apply(cli, root)
    assert handler(document, "list_names")["action"] == "migrate", handler(document, "list_names")
    result = serve(root, kind, """
        with Sync() as s:
            s.add(Item(name="pen", owner_id=1))
            s.commit()
        response = client.get("/names")
        with Sync() as s:
            names = s.scalars(select(Item.name).order_by(Item.id)).all()
        print(json.dumps({"status": response.status_code, "body": response.json(), "names": names}))
    """)
    assert result == {"status": 200, "body": ["pen"], "names": ["pen", "listed 1"]}


def test_near_miss_a_list_of_the_objects_read_after_a_commit_still_blocks(cli, service):
    objects = HELPERS.replace("[i.name for i in", "[i for i in")
    root = service({SUBSYSTEM: routes(objects, ROUTE)})
    document = apply(cli, root)
    found = handler(document, "list_names")
    assert found["action"] == "blocked", found
    assert "AM259" in found["codes"], found
    assert any("`out` is returned after" in r and "would return stale data" in r for r in found["reasons"]), found


def _values(source: str) -> bool:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    return returns_values(
        node, lambda written: "m.Item" if written == "Item" else None,
        lambda cls, attribute: cls == "m.Item" and attribute in ("id", "name"),
    )


def test_dicts_built_from_columns_are_values():
    assert _values("def f(db):\n    return [{'id': i.id, 'label': f'{i.name}!'} for i in db.query(Item).all()]\n")


def test_near_miss_a_relationship_of_the_objects_is_no_value():
    assert not _values("def f(db):\n    return [i.owner for i in db.scalars(select(Item))]\n")


def test_near_miss_a_column_of_a_query_of_no_mapped_class_is_no_value():
    assert not _values("def f(db, rows):\n    return [i.name for i in rows]\n")
