"""`FastAPI(dependencies=[Depends(f)])`, and `include_router(r, dependencies=[Depends(f)])` in a
loop, where `f` receives the synchronous Session.

FastAPI runs such a list for every route the application (or each router the loop includes)
serves, on the request's one Session. Phase two points the list at the dependency's async twin
when every one of those routes moves to the AsyncSession (or has no Session of its own); while
one stays on the synchronous Session, the routes are blocked naming the dependency and the
list's line. Each migrated case is run: the dependency's write is committed by the route's
commit, so the request held one Session.
"""

from __future__ import annotations

import pytest
from test_phase2_included_dependencies import AUDITING, HEALTH, RENAME
from test_phase2_rules import apply, dedent, function, handler, helper, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

APPLICATION = """
from fastapi import Depends, FastAPI

from api.items import router
from core.dependencies import audit

app = FastAPI(dependencies=[Depends(audit)])
app.include_router(router)
"""
ROUTERS = """
from api import items, other

ROUTERS = (items.router, other.router)
"""
LOOPED = """
from fastapi import Depends, FastAPI

from core.dependencies import audit
from routers import ROUTERS

app = FastAPI()
for router in ROUTERS:
    app.include_router(router, dependencies=[Depends(audit)])
"""
OTHER = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from models import User

router = APIRouter()


@router.get("/other")
def other(db: session_dependency):
    return {"name": db.get(User, 2).name}
"""
OTHER_FREE = """
from fastapi import APIRouter

router = APIRouter()


@router.get("/other")
def other():
    return {"ok": True}
"""
CHECK = """
    renamed = client.put("/me", params={"name": "Zoe"}).status_code
    healthy = client.get("/health").status_code
    with Sync() as s:
        name = s.get(User, 1).name
        audits = s.scalar(select(func.count(Item.id)).where(Item.name == "audit"))
    print(json.dumps({"status": [renamed, healthy], "name": name, "audits": audits}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_an_application_list_moves_to_the_twin_when_every_route_it_serves_migrates(cli, service, kind):
    root = service({"core/dependencies.py": AUDITING, "main.py": APPLICATION, SUBSYSTEM: routes(RENAME, HEALTH)})
    document = apply(cli, root)
    assert handler(document, "rename_me")["action"] == "migrate", handler(document, "rename_me")["reasons"]
    assert helper(document, "audit")["action"] == "twin"
    main = read(root, "main.py")
    assert "app = FastAPI(dependencies=[Depends(audit_async)])" in main
    assert "from core.dependencies import audit_async" in main
    assert function(root, "core/dependencies.py", "audit_async") == dedent(
        """
        async def audit_async(db: async_session_dependency) -> None:
            # No commit here: the route's commit writes it, on the request's one Session.
            db.add(Item(name="audit", owner_id=1))
        """
    )
    # The audit row added by the application's dependency is written by the route's commit: one Session.
    assert serve(root, kind, CHECK) == {"status": [200, 200], "name": "Zoe", "audits": 1}



def test_an_application_list_blocks_while_a_route_it_serves_stays_synchronous(cli, service):
    main = APPLICATION.replace("app.include_router(router)", "app.include_router(router)\napp.include_router(other.router)")
    root = service({
        "core/dependencies.py": AUDITING, "main.py": main.replace("from api.items import router", "from api import other\nfrom api.items import router"),
        "api/other.py": OTHER, SUBSYSTEM: routes(RENAME, HEALTH),
    })
    document = run(cli, root)
    blocked = handler(document, "rename_me")
    assert blocked["action"] == "blocked"
    assert any(
        "core.dependencies.audit" in reason and "api.other.other stays on the synchronous Session" in reason and "`main.app` (main.py:7)" in reason
        for reason in blocked["reasons"]
    ), blocked["reasons"]


LOOPS = {
    "a display of another module": (LOOPED, {"routers.py": ROUTERS}),
    "a display written in the loop": (
        LOOPED.replace("from routers import ROUTERS", "from api import items, other").replace(
            "for router in ROUTERS:", "for router in (items.router, other.router):"
        ),
        {},
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_a_looped_include_list_moves_to_the_twin_when_every_route_of_every_router_migrates(cli, service, kind, loop):
    main, extra = LOOPS[loop]
    root = service({
        "core/dependencies.py": AUDITING, "main.py": main, "api/other.py": OTHER_FREE,
        SUBSYSTEM: routes(RENAME, HEALTH), **extra,
    })
    document = apply(cli, root)
    assert handler(document, "rename_me")["action"] == "migrate", handler(document, "rename_me")["reasons"]
    assert helper(document, "audit")["action"] == "twin"
    assert "    app.include_router(router, dependencies=[Depends(audit_async)])" in read(root, "main.py")
    assert serve(root, kind, CHECK) == {"status": [200, 200], "name": "Zoe", "audits": 1}


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_a_looped_include_list_blocks_while_a_route_of_another_of_its_routers_stays(cli, service, loop):
    main, extra = LOOPS[loop]
    root = service({
        "core/dependencies.py": AUDITING, "main.py": main, "api/other.py": OTHER, SUBSYSTEM: routes(RENAME, HEALTH),
        **extra,
    })
    document = run(cli, root)
    blocked = handler(document, "rename_me")
    assert blocked["action"] == "blocked"
    assert any(
        "(main.py:8) applies it to every route of `api.items.router`, `api.other.router`" in reason
        and "api.other.other stays on the synchronous Session" in reason
        for reason in blocked["reasons"]
    ), blocked["reasons"]
