"""Every reason a route is blocked with is one of the subsystem's blockers.

Scripts read `subsystem.blockers` (and the report's "What blocks" table) to learn what stands in
the way; a reason only the route carried (a helper's chain of calls, a dependency wrapping the
Session provider) used to be missing there while the route stayed blocked for it.
"""

from __future__ import annotations

from test_phase2_rules import run
from test_phase2_soundness import ENGINE, routes, service

__all__ = ["service"]  # the fixture, used by name

REGISTRY = ENGINE + '''

from sqlalchemy.orm import scoped_session

registry = scoped_session(database_sessionmaker)


def get_registry():
    try:
        yield registry
    finally:
        registry.remove()
'''
SERVICES = """
from db.engine import registry
from models import Item


def count_items():
    return registry.query(Item).count()
"""
ROUTES = routes(
    """
    from db.engine import get_registry
    from services import count_items
    """,
    """
    @router.get("/items/count")
    def items_count():
        return {"count": count_items()}
    """,
    """
    @router.get("/items/{item_id}")
    def get_item(item_id: int, db: Session = Depends(get_registry)):
        return {"name": db.get(Item, item_id).name}
    """,
)


def test_every_reason_of_a_blocked_route_is_listed_among_the_blockers(cli, service, tmp_path):
    root = service({"db/engine.py": REGISTRY, "services.py": SERVICES, "api/items.py": ROUTES})
    document = run(cli, root)
    blocked = {h["function"]: h for h in document["handlers"] if h["action"] == "blocked"}
    assert set(blocked) == {"items_count", "get_item"}, document["handlers"]
    listed = {(b["file"], b["line"], b["code"]) for b in document["subsystem"]["blockers"]}
    for name, entry in blocked.items():
        for code, reason in zip(entry["codes"], entry["reasons"], strict=True):
            path, line, _ = reason.split(":", 2)
            assert (path, int(line), code) in listed, (name, reason, document["subsystem"]["blockers"])
    report = tmp_path / "report.md"
    assert cli("phase2", root, "--subsystem", "api/items.py", "--report", report).exit_code == 0
    table = report.read_text(encoding="utf-8").split("## What blocks", 1)[1]
    assert "services.py:6" in table and "db/engine.py:" in table, table
