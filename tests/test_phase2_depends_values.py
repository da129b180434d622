"""Phase two and a module-level `Depends(...)` value (`CurrentUserDep = Depends(get_current_user)`).

Given as a parameter's default, or as the metadata of its `Annotated[...]`, the value is that
function's dependency alone: it no longer blocks every route of every subsystem as a
`Depends(...)` written where the tool cannot tell which routes it applies to (AM219), and a route
migrating with it gets a twin of the value naming the dependency's async twin, so the request
keeps one Session. A use the tool cannot follow still blocks, naming the use
(tests/rules/test_am219_dependency_shares_session.py).
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, function, handler, read
from test_phase2_soundness import KINDS, MAIN, routes, serve

service = test_phase2_soundness.service

DEPENDENCIES = test_phase2_soundness.DEPENDENCIES.replace(
    "from fastapi import Depends", "from fastapi import Depends, Security"
).replace(
    "from db.engine import get_db_session", "from db.engine import get_db_session\nfrom models import User"
) + '''

def get_current_user(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)

CurrentUserDep = Depends(get_current_user)
ScopedUserDep = Security(get_current_user, scopes=["me"])
'''
# Three ways of naming the value: a default, `Annotated` metadata, and a `Security(...)` value.
ITEMS = """
from typing import Annotated

from core.dependencies import CurrentUserDep, ScopedUserDep

@router.put("/me")
def rename_me(name: str, user: User = CurrentUserDep, db: Session = Depends(get_db_session)):
    user.name = name
    db.commit()
    return {"id": user.id}

@router.put("/me/annotated")
def rename_annotated(name: str, user: Annotated[User, CurrentUserDep], db: Session = Depends(get_db_session)):
    user.name = name
    db.commit()
    return {"id": user.id}

@router.put("/me/scoped")
def rename_scoped(name: str, user: User = ScopedUserDep, db: Session = Depends(get_db_session)):
    user.name = name
    db.commit()
    return {"id": user.id}
"""
# Another subsystem, on the synchronous Session, naming the dependency itself.
ADMIN = """
@router.get("/whoami")
def whoami(user: User = Depends(get_current_user), db: Session = Depends(get_db_session)):
    return {"name": user.name, "items": db.scalar(select(func.count()).select_from(Item))}
"""
TWO_ROUTERS = MAIN.replace("from api.items import router", "from api import admin, items").replace(
    "app.include_router(router)", "app.include_router(items.router)\napp.include_router(admin.router)"
)

def build(service):  # type: ignore[no-untyped-def]
    return service({
        "core/dependencies.py": DEPENDENCIES,
        "main.py": TWO_ROUTERS,
        "api/items.py": routes(ITEMS),
        "api/admin.py": routes("from core.dependencies import get_current_user", ADMIN),
    })

@pytest.mark.parametrize("kind", KINDS)
def test_routes_naming_a_depends_value_migrate_on_its_twin_and_keep_one_session(cli, service, kind):
    root = build(service)
    document = apply(cli, root)
    for name in ("rename_me", "rename_annotated", "rename_scoped"):
        found = handler(document, name)
        assert found["action"] == "migrate" and "AM219" not in found["codes"], found
    assert "user: User = CurrentUserDep_async," in function(root, "api/items.py", "rename_me")
    assert "user: Annotated[User, CurrentUserDep_async]," in function(root, "api/items.py", "rename_annotated")
    text = read(root, "core/dependencies.py")
    assert 'ScopedUserDep_async = Security(get_current_user_async, scopes=["me"])' in text
    assert "CurrentUserDep = Depends(get_current_user)\n" in text  # the other subsystem's stays
    # The user the dependency loaded is saved by the route's commit: one Session per request
    # (on two, the rename would be lost).
    result = serve(root, kind, """
        out = {}
        for path, name in (("/me", "Zoe"), ("/me/annotated", "Yan"), ("/me/scoped", "Xia")):
            status = client.put(path, params={"name": name}).status_code
            with Sync() as s:
                out[path] = [status, s.get(User, 1).name]
        out["whoami"] = client.get("/whoami").json()
        print(json.dumps(out))
    """)
    assert result == {
        "/me": [200, "Zoe"], "/me/annotated": [200, "Yan"], "/me/scoped": [200, "Xia"],
        "whoami": {"name": "Xia", "items": 0},
    }

@pytest.mark.parametrize("kind", KINDS)
def test_a_depends_value_blocks_no_route_of_another_subsystem(cli, service, kind):
    root = build(service)
    document = apply(cli, root, subsystem="api/admin.py")
    found = handler(document, "whoami")
    assert found["action"] == "migrate" and "AM219" not in found["codes"], found
    assert read(root, "api/items.py") == routes(ITEMS)
    result = serve(root, kind, """
        status = client.put("/me", params={"name": "Zoe"}).status_code
        print(json.dumps({"status": status, "whoami": client.get("/whoami").json()}))
    """)
    assert result == {"status": 200, "whoami": {"name": "Zoe", "items": 0}}

def test_near_miss_a_depends_value_handed_to_a_call_still_blocks_naming_the_use(cli, service):
    root = service({
        "core/dependencies.py": DEPENDENCIES + "\n\nGUARDS = list([CurrentUserDep])\n",
        "main.py": TWO_ROUTERS,
        "api/items.py": routes(ITEMS),
        "api/admin.py": routes("from core.dependencies import get_current_user", ADMIN),
    })
    found = handler(apply(cli, root, subsystem="api/admin.py"), "whoami")
    assert found["action"] == "blocked" and found["codes"] == ["AM219"], found
    assert "`CurrentUserDep = Depends(get_current_user)` (core/dependencies.py:15) is used where the tool " \
        "cannot tell which routes it applies to: `list([CurrentUserDep])` (core/dependencies.py:19)" \
        in found["reasons"][0]


# A router-level dependency named through a module-level value: `dependencies=[AuditDep]`.
AUDIT = '''
from models import Item


class AuditTrail:
    def __init__(self, entity: str) -> None:
        self.entity = entity

    async def __call__(self, db: Session = Depends(get_db_session)) -> None:
        db.add(Item(name=self.entity, owner_id=1))
        db.flush()

AuditDep = Depends(AuditTrail("report"))
'''
REPORTS = routes("""
@router.get("/reports")
def report(db: Session = Depends(get_db_session)):
    return {"items": db.scalar(select(func.count()).select_from(Item))}
""").replace("router = APIRouter()", "from core.dependencies import AuditDep\n\nrouter = APIRouter(dependencies=[AuditDep])")
THREE_ROUTERS = TWO_ROUTERS.replace("from api import admin, items", "from api import admin, items, reports") + (
    "app.include_router(reports.router)\n"
)


def build_audited(service, dependencies: str = DEPENDENCIES + AUDIT):  # type: ignore[no-untyped-def]
    return service({
        "core/dependencies.py": dependencies,
        "main.py": THREE_ROUTERS,
        "api/items.py": routes(ITEMS),
        "api/admin.py": routes("from core.dependencies import get_current_user", ADMIN),
        "api/reports.py": REPORTS,
    })


RUN_AUDITED = """
    whoami = client.get("/whoami").json()
    report = client.get("/reports").json()
    print(json.dumps({"whoami": whoami, "report": report}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_depends_value_in_a_routers_list_blocks_only_that_routers_routes(cli, service, kind):
    # `AuditDep` runs for api/reports.py's routes alone: another subsystem migrates (it blocked
    # with "may share this route's Session", quoting `Depends(AuditTrail.__call__)`).
    root = build_audited(service)
    document = apply(cli, root, subsystem="api/admin.py")
    found = handler(document, "whoami")
    assert found["action"] == "migrate" and "AM219" not in found["codes"], found
    assert read(root, "api/reports.py") == REPORTS
    assert serve(root, kind, RUN_AUDITED) == {"whoami": {"name": "Ann", "items": 0}, "report": {"items": 1}}


@pytest.mark.parametrize("kind", KINDS)
def test_a_routers_list_naming_a_depends_value_moves_its_callable_instance_with_its_routes(cli, service, kind):
    # The router's own routes reach AuditTrail through the value: it moves in place with them,
    # and the route counts the row it flushed on the one Session of the request.
    root = build_audited(service)
    document = apply(cli, root, subsystem="api/reports.py")
    assert handler(document, "report")["action"] == "migrate", handler(document, "report")
    assert "    async def __call__(self, db: async_session_dependency) -> None:" in read(
        root, "core/dependencies.py"
    ) or "await db.flush()" in read(root, "core/dependencies.py"), read(root, "core/dependencies.py")
    assert serve(root, kind, RUN_AUDITED)["report"] == {"items": 1}


def test_near_miss_a_function_in_a_routers_list_through_a_value_blocks_its_routes_naming_it(cli, service):
    audited = DEPENDENCIES + AUDIT.replace(
        'AuditDep = Depends(AuditTrail("report"))',
        'def audit(db: Session = Depends(get_db_session)) -> None:\n    db.add(Item(name="report", owner_id=1))\n'
        "    db.flush()\n\nAuditDep = Depends(audit)",
    )
    root = build_audited(service, audited)
    found = handler(apply(cli, root, subsystem="api/reports.py"), "report")
    assert found["action"] == "blocked", found
    assert "names it through the module-level value `AuditDep`, which phase two does not point at an async " \
        "twin there: write `Depends(core.dependencies.audit)` in the list" in " ".join(found["reasons"]), found
    assert handler(apply(cli, root, subsystem="api/admin.py"), "whoami")["action"] == "migrate"


def test_near_miss_a_depends_value_of_an_instance_used_otherwise_still_blocks_quoting_it(cli, service):
    root = build_audited(service, DEPENDENCIES + AUDIT + "\n\nGUARDS = list([AuditDep])\n")
    found = handler(apply(cli, root, subsystem="api/admin.py"), "whoami")
    assert found["action"] == "blocked" and found["codes"] == ["AM219"], found
    assert "`AuditDep = Depends(AuditTrail(...))`" in found["reasons"][0], found["reasons"]
