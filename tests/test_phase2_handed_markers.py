"""A Session-taking dependency whose `Security(...)` marker a route hands to a direct call of it,
as fides' user routes do (`await verify_oauth_client(security_scopes=Security(verify_oauth_client,
scopes=[...]), authorization=authorization, db=db)`).

FastAPI resolves no marker handed to a call: in a route's body it is a plain value, which reaches
no other route. The tool does not follow what the callee does with it, so the route handing it
stays blocked (AM219), naming the marker, its line and the call, and what to hand instead; every
other route migrates as if the marker were not there, in the same module or not, and so does one
beside an `app.dependency_overrides[key] = override` whose key only such markers name (FastAPI runs
an override where it resolves the key, never for a marker handed to a call). Migrated routes are
RUN on the three databases.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler, line_in, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

VERIFY = """
from fastapi import Security
from fastapi.security import SecurityScopes


def verify_client(security_scopes: SecurityScopes, db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)


@router.get("/items/{item_id}")
async def read_item(item_id: int, db: Session = Depends(get_db_session)):
    user = verify_client(security_scopes=Security(verify_client, scopes=["items:read"]), db=db)
    return {"owner": user.id}


@router.get("/others", dependencies=[Security(verify_client, scopes=["items:read"])])
async def others(db: Session = Depends(get_db_session)):
    return {"n": db.scalar(select(func.count()).select_from(Item))}
"""
HANDED = "among them `Security(verify_client, scopes=['items:read'])` (api/items.py:22) handed to `verify_client(...)`"
THIS_ROUTE = (
    "and this route hands its marker to a call: `Security(verify_client, scopes=['items:read'])` (api/items.py:22) "
    "handed to `verify_client(...)`"
)


def test_a_marker_handed_to_a_call_blocks_that_route_alone_naming_the_marker_and_line(cli, service):
    root = service({SUBSYSTEM: routes(VERIFY)})
    document = apply(cli, root)
    found = handler(document, "read_item")
    assert found["action"] == "blocked"
    assert found["codes"] == ["AM219"]
    reasons = " ".join(found["reasons"])
    assert reasons.startswith("api/items.py:22: dependency api.items.verify_client receives the synchronous Session")
    assert THIS_ROUTE in reasons, reasons
    assert HANDED not in reasons
    assert "`SecurityScopes(scopes=[...])` for a `security_scopes` parameter" in reasons
    assert handler(document, "others")["action"] == "migrate", handler(document, "others")
    migrated = read(root, SUBSYSTEM)
    assert 'dependencies=[Security(verify_client_async, scopes=["items:read"])]' in migrated
    assert "user = verify_client(security_scopes=Security(verify_client," in migrated


def test_handing_the_value_itself_migrates_with_the_dependency_twinned(cli, service):
    root = service({SUBSYSTEM: routes(VERIFY.replace(
        'Security(verify_client, scopes=["items:read"]), db=db)', 'SecurityScopes(scopes=["items:read"]), db=db)'
    ))})
    document = apply(cli, root)
    assert handler(document, "read_item")["action"] == "migrate"
    assert handler(document, "others")["action"] == "migrate"
    migrated = read(root, SUBSYSTEM)
    assert "await verify_client_async(security_scopes=SecurityScopes(" in migrated
    assert 'dependencies=[Security(verify_client_async, scopes=["items:read"])]' in migrated


AUTH = """
from fastapi import Depends
from fastapi.security import SecurityScopes
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import User


def verify_client(security_scopes: SecurityScopes, db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)


def require_admin(security_scopes: SecurityScopes, db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)


def root_admin(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 2)
"""
# Another module's route hands the markers to direct calls, as fides' user_endpoints.py does.
USERS = """
from fastapi import APIRouter, Depends, Security
from sqlalchemy.orm import Session

from core.auth import require_admin, verify_client
from db.engine import get_db_session
from models import User

router = APIRouter()


@router.get("/users/{user_id}")
def read_user(user_id: int, db: Session = Depends(get_db_session)):
    caller = verify_client(security_scopes=Security(verify_client, scopes=["users:read"]), db=db)
    admin = require_admin(security_scopes=Security(require_admin, scopes=["users:admin"]), db=db)
    return {"caller": caller.id, "admin": admin.id, "name": db.get(User, user_id).name}
"""
MAIN = """
from fastapi import FastAPI

from api import items, users
from core.auth import require_admin, root_admin

app = FastAPI()
app.include_router(items.router)
app.include_router(users.router)
# a development switch, as fides' app_setup.py sets `get_root_client`
app.dependency_overrides[require_admin] = root_admin
"""
ITEMS = """
from fastapi import Security

from core.auth import verify_client


@router.post("/items", dependencies=[Security(verify_client, scopes=["items:write"])])
def add_item(name: str, db: Session = Depends(get_db_session)):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"ok": True}


@router.get("/items")
def list_items(db: Session = Depends(get_db_session)):
    return [i.name for i in db.scalars(select(Item).order_by(Item.id))]
"""
RUN = """
answers = [
    client.post("/items", params={"name": "pen"}).json(),
    client.post("/items", params={"name": "ink"}).json(),
    client.get("/items").json(),
    client.get("/users/2").json(),
]
with Sync() as s:
    stored = list(s.scalars(select(Item.name).order_by(Item.id)))
print(json.dumps([answers, stored]))
"""
EXPECTED = [[{"ok": True}, {"ok": True}, ["pen", "ink"], {"caller": 1, "admin": 1, "name": "Bob"}], ["pen", "ink"]]


@pytest.mark.parametrize("kind", KINDS)
def test_markers_handed_in_another_module_and_an_override_of_their_key_leave_other_routes_free(cli, service, kind):
    # Before: every route here was blocked (AM219) by the markers handed in api/users.py, and by
    # the override read as a `Depends(root_admin)` written in main.py.
    root = service({"core/auth.py": AUTH, "api/users.py": USERS, "main.py": MAIN, SUBSYSTEM: routes(ITEMS)})
    assert serve(root, kind, RUN) == EXPECTED
    document = apply(cli, root)
    for name in ("add_item", "list_items"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    migrated = read(root, SUBSYSTEM)
    assert "async def add_item" in migrated
    assert 'dependencies=[Security(verify_client_async, scopes=["items:write"])]' in migrated
    assert "def read_user(" in read(root, "api/users.py")
    assert serve(root, kind, RUN) == EXPECTED


def test_the_route_handing_the_markers_stays_blocked_naming_them(cli, service):
    root = service({"core/auth.py": AUTH, "api/users.py": USERS, "main.py": MAIN, SUBSYSTEM: routes(ITEMS)})
    before = read(root, "api/users.py")
    found = handler(apply(cli, root, subsystem="api/users.py"), "read_user")
    assert found["action"] == "blocked" and "AM219" in found["codes"], found
    reasons = " ".join(found["reasons"])
    caller, admin = line_in(before, "caller = verify_client("), line_in(before, "admin = require_admin(")
    for marker in (
        f"`Security(verify_client, scopes=['users:read'])` (api/users.py:{caller}) handed to `verify_client(...)`",
        f"`Security(require_admin, scopes=['users:admin'])` (api/users.py:{admin}) handed to `require_admin(...)`",
    ):
        assert marker in reasons, reasons
    assert "Depends(root_admin)" not in reasons
    assert read(root, "api/users.py") == before
