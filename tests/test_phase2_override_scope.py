"""Phase two and a dependency override the application sets for itself.

`app.dependency_overrides[require_token] = root_token` (a development switch, as fides sets
`get_root_client` in place of its token check) runs `root_token` only for the routes whose
dependency tree names `require_token`. Such an override receiving the synchronous Session
blocked every route of every subsystem ("a `Depends(root_token)` ... is written where the tool
cannot tell which routes it applies to"). Now a route that never names the key migrates, and
RUNS on SQLite, PostgreSQL and MariaDB with the override set; a route naming the key stays
blocked, naming the override, since the request would hold two Sessions; a key also written in
a shared list (`include_router(..., dependencies=[...])`, `FastAPI(dependencies=[...])`), or
where the tool cannot tell the routes, keeps blocking all.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

AUTH = """
from fastapi import Depends, Header, HTTPException
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item


def require_token(x_token: str = Header("")) -> str:
    if x_token != "secret":
        raise HTTPException(401)
    return x_token


def root_token(db: Session = Depends(get_db_session)) -> str:
    # every request passes, and leaves a row on the request's Session
    db.add(Item(name="root", owner_id=1))
    return "root"
"""
ITEMS = """
@router.post("/items")
def add_item(name: str, db: Session = Depends(get_db_session)):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return {"id": item.id}


@router.get("/items")
def list_items(db: Session = Depends(get_db_session)):
    return [i.name for i in db.scalars(select(Item).order_by(Item.id))]
"""
ADMIN = """
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from core.auth import require_token
from db.engine import get_db_session
from models import Item

router = APIRouter()


@router.post("/admin/items", dependencies=[Depends(require_token)])
def add_admin_item(name: str, db: Session = Depends(get_db_session)):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"ok": True}
"""
MAIN = """
from fastapi import FastAPI

from api import admin, items
from core.auth import require_token, root_token


def create_app(development: bool = True) -> FastAPI:
    app = FastAPI()
    app.include_router(items.router)
    app.include_router(admin.router{include})
    if development:
        app.dependency_overrides[require_token] = root_token
    return app


app = create_app()
"""
RUN = """
answers = [
    client.post("/items", params={"name": "pen"}).json(),
    client.post("/admin/items", params={"name": "ink"}).json(),
    client.get("/items").json(),
]
with Sync() as s:
    stored = list(s.scalars(select(Item.name).order_by(Item.id)))
print(json.dumps([answers, stored]))
"""
# The admin route runs the override on its own (synchronous) Session: its "root" row is committed
# with the route's "ink" on that one Session.
EXPECTED = [[{"id": 1}, {"ok": True}, ["pen", "root", "ink"]], ["pen", "root", "ink"]]


def override_service(service, include: str = ""):  # type: ignore[no-untyped-def]
    return service({
        "core/auth.py": AUTH,
        "api/admin.py": ADMIN,
        "main.py": MAIN.replace("{include}", include),
        SUBSYSTEM: routes(ITEMS),
    })


@pytest.mark.parametrize("kind", KINDS)
def test_routes_not_naming_the_overridden_dependency_migrate_and_write(cli, service, kind):
    root = override_service(service)
    assert serve(root, kind, RUN) == EXPECTED
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert handler(document, "list_items")["action"] == "migrate", handler(document, "list_items")
    assert "async def add_item" in read(root, SUBSYSTEM)
    # the migrated route's row and the admin route's (with the override's) are all written
    assert serve(root, kind, RUN) == EXPECTED
    assert run(cli, root)["files_changed"] == []


def test_a_route_naming_the_overridden_key_or_a_key_in_a_shared_list_stays_blocked(cli, service):
    root = override_service(service)
    document = run(cli, root, subsystem="api/admin.py")
    blocked = handler(document, "add_admin_item")
    assert blocked["action"] == "blocked"
    assert "AM219" in blocked["codes"]
    assert any(
        "`dependency_overrides[require_token] = root_token` (main.py) runs it in place of a dependency this route names"
        in reason for reason in blocked["reasons"]
    ), blocked["reasons"]
    # `include_router(..., dependencies=[Depends(require_token)])`: which routes run the key is
    # the list's question, not the routes' own, so the override may run for any of them.
    root = override_service(service, include=", dependencies=[Depends(require_token)]")
    (root / "main.py").write_text(
        read(root, "main.py").replace("from fastapi import FastAPI", "from fastapi import Depends, FastAPI"),
        encoding="utf-8",
    )
    document = run(cli, root)
    for name in ("add_item", "list_items"):
        blocked = handler(document, name)
        assert blocked["action"] == "blocked", blocked
        # an override is an assignment, no `Depends(root_token)` written in main.py
        assert any(
            "`dependency_overrides[require_token] = root_token` (main.py) runs it wherever FastAPI resolves that key"
            in reason for reason in blocked["reasons"]
        ), blocked["reasons"]
        assert not any("`Depends(root_token)` in main.py" in reason for reason in blocked["reasons"])


def test_a_route_naming_a_dependency_value_the_tool_does_not_read_stays_blocked(cli, service):
    # `checked = make_check()`: what FastAPI calls is the factory's result, which may be the key.
    auth = AUTH + '''

def make_check():
    return require_token


checked = make_check()
'''
    items = ITEMS.replace('@router.get("/items")', '@router.get("/items", dependencies=[Depends(checked)])')
    root = service({
        "core/auth.py": auth,
        "api/admin.py": ADMIN,
        "main.py": MAIN.replace("{include}", ""),
        SUBSYSTEM: routes(items).replace("from models import", "from core.auth import checked\nfrom models import"),
    })
    document = run(cli, root)
    assert handler(document, "add_item")["action"] == "migrate"
    blocked = handler(document, "list_items")
    assert blocked["action"] == "blocked", blocked
    assert any("dependency_overrides[require_token] = root_token" in reason for reason in blocked["reasons"])
