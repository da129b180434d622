"""A subsystem whose routes open `Session(engine)` themselves (no session dependency) is not
blocked by session dependencies of other routers disagreeing on committing at the end of a
request (AM240): its routes commit by hand, and no dependency's commit on exit is theirs. Before,
the subsystem was blocked with AM240 blamed on `get_db_session` and `get_committing_db`, which its
routes never reach. The migrated routes, beside the synchronous ones on both dependencies, run on
each database; the async dependency that run writes does not commit, and a later run does not move
a route relying on its dependency's commit onto it."""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service

COMMITTING = """
from db.engine import database_sessionmaker


def get_committing_db():
    db = database_sessionmaker()
    try:
        yield db
        db.commit()
    finally:
        db.close()
"""
ON_EACH = """
from db.committing import get_committing_db


@router.post("/committed")
def add_committed(name: str, db: Session = Depends(get_committing_db)):
    db.add(Item(name=name, owner_id=1))
    return {"ok": True}


@router.post("/plain")
def add_plain(name: str, db: Session = Depends(get_db_session)):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"ok": True}
"""
INLINE = """
from db.engine import engine


@router.post("/inline")
async def add_inline(name: str):
    with Session(engine) as s:
        s.add(Item(name=name, owner_id=1))
        s.commit()
    return {"ok": True}


@router.get("/inline")
async def list_inline():
    with Session(engine) as s:
        return sorted(s.scalars(select(Item.name)))
"""
MAIN = """
from fastapi import FastAPI

from api import inline, items

app = FastAPI()
app.include_router(items.router)
app.include_router(inline.router)
"""


def tree(service):  # type: ignore[no-untyped-def]
    return service({
        "db/committing.py": dedent(COMMITTING), "api/items.py": routes(ON_EACH), "api/inline.py": routes(INLINE),
        "main.py": dedent(MAIN),
    })


@pytest.mark.parametrize("kind", KINDS)
def test_routes_opening_a_session_on_the_engine_migrate_beside_disagreeing_dependencies(cli, service, kind):
    root = tree(service)
    document = apply(cli, root, subsystem="api/inline.py")
    for name in ("add_inline", "list_inline"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert "AM240" not in {b["code"] for b in document["subsystem"]["blockers"]}, document["subsystem"]["blockers"]
    assert "async with AsyncSession(async_engine) as s:" in read(root, "api/inline.py")
    result = serve(root, kind, """
        statuses = [client.post(path, params={"name": path[1:]}).status_code for path in ("/inline", "/committed", "/plain")]
        listed = client.get("/inline").json()
        print(json.dumps({"statuses": statuses, "listed": listed}))
    """)
    assert result == {"statuses": [200, 200, 200], "listed": ["committed", "inline", "plain"]}


def test_the_next_subsystem_on_a_committing_dependency_does_not_take_the_non_committing_async_one(cli, service):
    root = tree(service)
    apply(cli, root, subsystem="api/inline.py")
    document = cli.json("phase2", root, "-s", "api/items.py")
    # the async dependency the inline run wrote does not commit on exit: a route relying on its
    # dependency's commit must not move onto it (its writes would be lost), and says why
    committed = handler(document, "add_committed")
    assert committed["action"] == "blocked" and "AM240" in committed["codes"], committed
