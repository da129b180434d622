"""Phase two through the Session a class dependency holds, handed to a module helper by the
route (`crud.add_item(svc.db, name)` with `svc: ItemService = Depends()`), proved by running.

When only migrating routes inject the class, it moves in place: its `__init__` receives the
AsyncSession, so `svc.db` is the AsyncSession in the route and the helper migrates as it
would given the route's own Session (`async def`, the call awaited). When code that stays
synchronous injects the class too, the migrated routes inject its parallel async class and
call the helper's twin; with `--shared block` they are blocked. Before, every such route was
blocked (AM241) although nothing in it stayed on the synchronous Session.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects
from test_phase2_rules import apply, handler, helper, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

CRUD = """
from sqlalchemy.orm import Session

from models import Item


def get_item(db: Session, item_id: int) -> Item | None:
    return db.get(Item, item_id)


def add_item(db: Session, name: str) -> Item:
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return item
"""
ROUTES = """
import crud


class ItemService:
    def __init__(self, db: Session = Depends(get_db_session)) -> None:
        self.db = db


@router.post("/items")
def create(name: str, svc: ItemService = Depends()):
    return {"id": crud.add_item(svc.db, name).id}


@router.get("/items/{item_id}")
def read_item(item_id: int, svc: ItemService = Depends()):
    item = crud.get_item(svc.db, item_id)
    return {"name": item.name if item else None}
"""
CHECK = """
    made = client.post("/items", params={"name": "a"}).json()
    got = client.get(f"/items/{made['id']}").json()
    with Sync() as s:
        rows = list(s.scalars(select(Item.name)))
    print(json.dumps({"made": made, "got": got, "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_helper_given_the_session_a_class_dependency_holds_migrates_and_writes(cli, service, kind):
    root = service({"crud.py": CRUD, SUBSYSTEM: routes(ROUTES)})
    document = apply_objects(cli, root)
    for route in ("create", "read_item"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    for name in ("add_item", "get_item"):
        assert helper(document, name)["action"] == "migrate", helper(document, name)
    text = read(root, SUBSYSTEM)
    assert "    def __init__(self, db: AsyncSession = Depends(get_async_db_session)) -> None:" in text
    assert '    return {"id": (await crud.add_item(svc.db, name)).id}' in text
    assert "    item = await crud.get_item(svc.db, item_id)" in text
    assert "async def add_item(db: AsyncSession, name: str) -> Item:" in read(root, "crud.py")
    assert serve(root, kind, CHECK) == {"made": {"id": 1}, "got": {"name": "a"}, "rows": ["a"]}


ADMIN = """
from fastapi import APIRouter, Depends

import crud
from api.items import ItemService

router = APIRouter()


@router.get("/admin/items/{item_id}")
def admin_read(item_id: int, svc: ItemService = Depends()):
    return {"name": crud.get_item(svc.db, item_id).name}
"""
TWO_ROUTERS = """
from fastapi import FastAPI

from api import admin, items

app = FastAPI()
app.include_router(items.router)
app.include_router(admin.router)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_the_class_also_injected_by_synchronous_code_gets_a_parallel_class_and_both_paths_run(cli, service, kind):
    root = service({"crud.py": CRUD, SUBSYSTEM: routes(ROUTES), "api/admin.py": ADMIN, "main.py": TWO_ROUTERS})
    document = apply_objects(cli, root)
    for route in ("create", "read_item"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    text = read(root, SUBSYSTEM)
    assert "async def read_item(item_id: int, svc: ItemServiceAsync = Depends()):" in text
    assert "    item = await crud.get_item_async(svc.db, item_id)" in text
    assert "def admin_read(item_id: int, svc: ItemService = Depends()):" in read(root, "api/admin.py")
    result = serve(root, kind, CHECK.replace('"rows": rows}', '"rows": rows, "admin": client.get("/admin/items/1").json()}'))
    assert result == {"made": {"id": 1}, "got": {"name": "a"}, "rows": ["a"], "admin": {"name": "a"}}


def test_near_miss_the_class_shared_with_synchronous_code_under_shared_block_still_blocks(cli, service):
    root = service({"crud.py": CRUD, SUBSYSTEM: routes(ROUTES), "api/admin.py": ADMIN, "main.py": TWO_ROUTERS})
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = apply(cli, root, "--jobs", "1", "--shared", "block")
    for route in ("create", "read_item"):
        assert handler(document, route)["action"] == "blocked", handler(document, route)
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_route_binding_the_held_session_first_is_blocked_and_keeps_the_synchronous_class(
    cli, service, kind
):
    # `db = svc.db` then `crud.get_item(db, ...)` is Session work (not "does no synchronous Session
    # work"), but what else the route does with the name is not followed: it is blocked (AM229),
    # so the class is shared with synchronous code and the migrated route injects the parallel class.
    bound = ROUTES.replace("    item = crud.get_item(svc.db, item_id)", "    db = svc.db\n    item = crud.get_item(db, item_id)")
    root = service({"crud.py": CRUD, SUBSYSTEM: routes(bound)})
    document = apply_objects(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")
    blocked = handler(document, "read_item")
    assert (blocked["action"], blocked["codes"]) == ("blocked", ["AM229"]), blocked
    assert "(`svc.db`) from outside the class" in blocked["reasons"][0], blocked
    text = read(root, SUBSYSTEM)
    assert "async def create(name: str, svc: ItemServiceAsync = Depends()):" in text
    assert "def read_item(item_id: int, svc: ItemService = Depends()):" in text
    assert serve(root, kind, CHECK) == {"made": {"id": 1}, "got": {"name": "a"}, "rows": ["a"]}
