"""One rule for a dependency list that phase two points at its async twin, a router's
(`APIRouter(dependencies=[Depends(f)])`) or an include's (`include_router(r, dependencies=[...])`):
the list moves only when no other route it serves keeps a synchronous Session, in the subsystem
or not. A route keeps one when it does Session work, takes a Session parameter (used or not), or
has a dependency receiving one other than the list's own; with the twin's AsyncSession beside
it, its request would hold two. The migrated case is run (TestClient) and the rows read back.
"""

from __future__ import annotations

import pytest
from test_phase2_included_dependencies import AUDITING, GUARDED, HEALTH, RENAME
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name


def _guarded_router(*parts: str) -> str:
    return routes(*parts).replace(
        "router = APIRouter()", "router = APIRouter(dependencies=[Depends(audit)])"
    ).replace("from core.dependencies import session_dependency", "from core.dependencies import audit, session_dependency")


# Registered on the subsystem's router from another module: it takes the Session and never uses it.
IDLE = """
from api.items import router
from core.dependencies import session_dependency


@router.get("/idle")
def idle(db: session_dependency):
    return {"ok": True}
"""
IDLE_INCLUDED = """
from fastapi import APIRouter

from core.dependencies import session_dependency

router = APIRouter()


@router.get("/idle")
def idle(db: session_dependency):
    return {"ok": True}
"""
MAIN_IDLE = """
from fastapi import FastAPI

import api.idle  # noqa: F401  (registers its route on the items router)
from api.items import router

app = FastAPI()
app.include_router(router)
"""
WHOAMI = """
def current_user(db: session_dependency) -> User:
    return db.get(User, 1)


@router.get("/whoami")
def whoami(user: User = Depends(current_user)):
    return {"name": user.name}
"""
CHECK = """
    renamed = client.put("/me", params={"name": "Zoe"}).status_code
    healthy = client.get("/health").status_code
    with Sync() as s:
        name = s.get(User, 1).name
        audits = s.scalar(select(func.count(Item.id)).where(Item.name == "audit"))
    print(json.dumps({"status": [renamed, healthy], "name": name, "audits": audits}))
"""


def _stays(document: dict, route: str, staying: str) -> None:
    blocked = handler(document, route)
    assert blocked["action"] == "blocked", blocked
    assert any(f"{staying} stays on the synchronous Session" in reason for reason in blocked["reasons"]), blocked["reasons"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_router_list_moves_when_every_route_it_serves_migrates(cli, service, kind):
    root = service({"core/dependencies.py": AUDITING, SUBSYSTEM: _guarded_router(RENAME, HEALTH)})
    document = apply(cli, root)
    assert handler(document, "rename_me")["action"] == "migrate", handler(document, "rename_me")["reasons"]
    assert "router = APIRouter(dependencies=[Depends(audit_async)])" in read(root, SUBSYSTEM)
    assert serve(root, kind, CHECK) == {"status": [200, 200], "name": "Zoe", "audits": 1}


def test_a_router_list_stays_for_a_route_elsewhere_taking_a_session_it_does_not_use(cli, service):
    root = service({
        "core/dependencies.py": AUDITING, "api/idle.py": IDLE, "main.py": MAIN_IDLE,
        SUBSYSTEM: _guarded_router(RENAME, HEALTH),
    })
    _stays(run(cli, root), "rename_me", "api.idle.idle")


def test_a_router_list_stays_for_a_route_whose_dependency_receives_the_session(cli, service):
    root = service({"core/dependencies.py": AUDITING, SUBSYSTEM: _guarded_router(RENAME, HEALTH, WHOAMI)})
    document = run(cli, root)
    # No Session work of its own: it stays as it is, its dependency on the synchronous Session.
    assert handler(document, "whoami")["action"] != "migrate", handler(document, "whoami")
    _stays(document, "rename_me", "api.items.whoami")


def test_an_include_list_stays_for_a_route_elsewhere_taking_a_session_it_does_not_use(cli, service):
    main = GUARDED.replace("from api.items import router", "from api import idle\nfrom api.items import router").replace(
        "app.include_router(router, dependencies=[Depends(audit)])",
        "app.include_router(router, dependencies=[Depends(audit)])\napp.include_router(idle.router)",
    )
    root = service({
        "core/dependencies.py": AUDITING, "api/idle.py": IDLE_INCLUDED, "main.py": main,
        SUBSYSTEM: routes(RENAME, HEALTH),
    })
    assert handler(run(cli, root), "rename_me")["action"] == "migrate"  # idle is not under the include
    looped = main.replace("app.include_router(idle.router)\n", "").replace(
        "app.include_router(router, dependencies=[Depends(audit)])",
        "for included in (router, idle.router):\n    app.include_router(included, dependencies=[Depends(audit)])",
    )
    (root / "main.py").write_text(looped, encoding="utf-8")
    _stays(run(cli, root), "rename_me", "api.idle.idle")
