"""A Session alias whose `Depends()` keywords the async alias lacks keeps its route synchronous
(AM244); a `Depends(...)` default keeps its keywords and migrates. Both are served before and after
phase two: a Session of its own (`use_cache=False`) commits the audit row while the request's
pending work is dropped, as before.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import DEPENDENCIES, KINDS, SUBSYSTEM, routes, serve, service  # noqa: F401

AUDITED = DEPENDENCIES + """
audit_dependency = Annotated[Session, Depends(get_db_session, use_cache=False)]
"""
ROUTE = """
from fastapi import HTTPException

from core.dependencies import audit_dependency


@router.post("/items")
def add_item(name: str, db: session_dependency, {audit}):
    db.add(Item(name=name, owner_id=1))
    if name == "bad":
        # the request's own Item is pending, never flushed: only the audit row may be saved
        audit.add(Item(name="audit", owner_id=1))
        audit.commit()
        raise HTTPException(403, "denied")
    db.commit()
    return {"ok": True}
"""
NAMES = """
bad = client.post("/items", params={"name": "bad"})
with Sync() as s:
    names = sorted(s.scalars(select(Item.name)).all())
print(json.dumps({"bad": bad.status_code, "names": names}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_an_alias_without_use_cache_false_on_the_async_side_keeps_the_route(cli, service, kind):  # noqa: F811
    root = service({"core/dependencies.py": AUDITED, SUBSYSTEM: routes(ROUTE.replace("{audit}", "audit: audit_dependency"))})
    assert serve(root, kind, NAMES) == {"bad": 403, "names": ["audit"]}
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked" and "AM244" in found["codes"], found
    assert "def add_item(name: str, db: session_dependency, audit: audit_dependency):" in read(root, SUBSYSTEM)
    assert serve(root, kind, NAMES) == {"bad": 403, "names": ["audit"]}


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_depends_default_keeps_use_cache_false_and_migrates(cli, service, kind):  # noqa: F811
    source = ROUTE.replace("{audit}", "audit: Session = Depends(get_db_session, use_cache=False)")
    root = service({"core/dependencies.py": AUDITED, SUBSYSTEM: routes(source)})
    assert serve(root, kind, NAMES) == {"bad": 403, "names": ["audit"]}
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert "Depends(get_async_db_session, use_cache=False)" in read(root, SUBSYSTEM)
    # a Session of its own still: the request's pending Item is not committed with the audit row
    assert serve(root, kind, NAMES) == {"bad": 403, "names": ["audit"]}
