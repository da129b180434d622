"""`include_router(router, dependencies=[Depends(f)])` where `f` receives the synchronous Session.

FastAPI runs the include's list for every route it includes, on the request's one Session.
Phase two points that list at the dependency's async twin when every route served under the
include moves to the AsyncSession (or has no Session of its own); while one stays on the
synchronous Session, the routes are blocked naming the dependency and the include's line.
Each migrated case is run: the dependency's write is committed by the route's commit, so the
request held one Session.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, function, handler, helper, read
from test_phase2_soundness import DEPENDENCIES, KINDS, MAIN, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

AUDITING = DEPENDENCIES.replace(
    "from db.engine import get_db_session", "from db.engine import get_db_session\nfrom models import Item"
) + """

def audit(db: session_dependency) -> None:
    # No commit here: the route's commit writes it, on the request's one Session.
    db.add(Item(name="audit", owner_id=1))
"""
GUARDED = MAIN.replace(
    "from fastapi import FastAPI", "from fastapi import Depends, FastAPI\n\nfrom core.dependencies import audit"
).replace("app.include_router(router)", "app.include_router(router, dependencies=[Depends(audit)])")
RENAME = """
@router.put("/me")
def rename_me(name: str, db: session_dependency):
    db.get(User, 1).name = name
    db.commit()
"""
HEALTH = """
@router.get("/health")
def health():
    return {"ok": True}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_an_include_list_moves_to_the_twin_when_every_route_it_includes_migrates(cli, service, kind):
    root = service({"core/dependencies.py": AUDITING, "main.py": GUARDED, SUBSYSTEM: routes(RENAME, HEALTH)})
    document = apply(cli, root)
    assert handler(document, "rename_me")["action"] == "migrate", handler(document, "rename_me")
    assert helper(document, "audit")["action"] == "twin"
    main = read(root, "main.py")
    assert "app.include_router(router, dependencies=[Depends(audit_async)])" in main
    assert "from core.dependencies import audit_async" in main
    assert function(root, "core/dependencies.py", "audit_async") == dedent(
        """
        async def audit_async(db: async_session_dependency) -> None:
            # No commit here: the route's commit writes it, on the request's one Session.
            db.add(Item(name="audit", owner_id=1))
        """
    )
    result = serve(root, kind, """
        renamed = client.put("/me", params={"name": "Zoe"}).status_code
        healthy = client.get("/health").status_code
        with Sync() as s:
            name = s.get(User, 1).name
            audits = s.scalar(select(func.count(Item.id)).where(Item.name == "audit"))
        print(json.dumps({"status": [renamed, healthy], "name": name, "audits": audits}))
    """)
    # The audit row added by the include's dependency is written by the route's commit: one Session.
    assert result == {"status": [200, 200], "name": "Zoe", "audits": 1}
