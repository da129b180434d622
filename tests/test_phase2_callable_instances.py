"""Phase two on callable-instance dependencies, proved by running the migrated application.

A class whose `__call__` takes the request's Session is used as `Depends(Permission("admin"))`
(an instance built in place) or `Depends(require_admin)` (a module-level instance), with an
`async def` or a plain `def __call__`. Only the routes inject it: it moves in place, one
Session per request. A route also calling an instance directly, `await Permission("admin")(db)`
or `Permission("admin")(db)`, stays synchronous, so the class may not move under it: the
routes injecting it block naming that caller. Each migrated case is served with TestClient
under `-W error::RuntimeWarning`, collecting what the interpreter can only report (a coroutine
never awaited), and the database is read back through a separate synchronous session.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import test_phase2_soundness
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

ASYNC_CALL = """
class Permission:
    def __init__(self, role: str) -> None:
        self.role = role

    async def __call__(self, db: Session = Depends(get_db_session)) -> User:
        user = db.scalars(select(User).where(User.id == 1)).first()
        user.name = user.name + "+" + self.role
        return user
"""
SYNC_CALL = ASYNC_CALL.replace("async def __call__", "def __call__")
MODULE_INSTANCE = """
require_admin = Permission("admin")
"""
SUBCLASS = """
class Admin(Permission):
    pass
"""
IN_PLACE_ROUTE = """
@router.post("/items")
def create_item(name: str, user: User = Depends(Permission("admin")), db: Session = Depends(get_db_session)):
    db.add(Item(name=name, owner_id=user.id))
    db.commit()
    return {"owner": user.name}
"""
INSTANCE_ROUTE = IN_PLACE_ROUTE.replace('Depends(Permission("admin"))', "Depends(require_admin)")
AWAITED_ROUTE = """
@router.post("/items/direct")
async def create_direct(name: str, db: Session = Depends(get_db_session)):
    user = await Permission("admin")(db)
    db.add(Item(name=name, owner_id=user.id))
    db.commit()
    return {"owner": user.name}
"""
CALLED_ROUTE = AWAITED_ROUTE.replace("await Permission", "Permission").replace("async def", "def")

CHECK = """
    import gc
    import sys

    unraisable = []
    sys.unraisablehook = lambda u: unraisable.append(repr(u.exc_value))
    answers = [client.post(path, params={"name": "a"}).json() for path in PATHS]
    gc.collect()
    with Sync() as s:
        rows = [(i.name, i.owner_id) for i in s.scalars(select(Item))]
        owner = s.get(User, 1).name
    print(json.dumps({"answers": answers, "rows": rows, "owner": owner, "unraisable": unraisable}))
"""


def run_paths(root: Path, kind: str, monkeypatch: pytest.MonkeyPatch, paths: list[str]) -> object:
    """POST each path once; what the database holds after, and what was reported unraisable."""
    monkeypatch.setenv("PYTHONWARNINGS", "error::RuntimeWarning")
    return serve(root, kind, CHECK.replace("PATHS", repr(paths)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "parts",
    [
        pytest.param((ASYNC_CALL, IN_PLACE_ROUTE), id="async-call-built-in-place"),
        pytest.param((SYNC_CALL, IN_PLACE_ROUTE), id="def-call-built-in-place"),
        pytest.param((ASYNC_CALL, MODULE_INSTANCE, INSTANCE_ROUTE), id="async-call-module-instance"),
        pytest.param((SYNC_CALL, MODULE_INSTANCE, INSTANCE_ROUTE), id="def-call-module-instance"),
    ],
)
def test_a_callable_instance_only_routes_inject_moves_in_place_with_one_session(
    cli, service, monkeypatch, kind, parts
):
    root = service({SUBSYSTEM: routes(*parts)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    text = read(root, SUBSYSTEM)
    assert "    async def __call__(self, db: AsyncSession = Depends(get_async_db_session)) -> User:" in text
    # The dependency's change to the user is saved by the route's commit: one Session per request.
    assert run_paths(root, kind, monkeypatch, ["/items"]) == {
        "answers": [{"owner": "Ann+admin"}], "rows": [["a", 1]], "owner": "Ann+admin", "unraisable": [],
    }


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param((ASYNC_CALL, IN_PLACE_ROUTE, AWAITED_ROUTE), id="awaited-built-in-place"),
        pytest.param((SYNC_CALL, IN_PLACE_ROUTE, CALLED_ROUTE), id="called-built-in-place"),
        pytest.param((ASYNC_CALL, MODULE_INSTANCE, INSTANCE_ROUTE, AWAITED_ROUTE), id="awaited-module-instance"),
        pytest.param((SYNC_CALL, MODULE_INSTANCE, INSTANCE_ROUTE, CALLED_ROUTE), id="called-module-instance"),
        pytest.param(
            (SYNC_CALL, SUBCLASS, IN_PLACE_ROUTE, CALLED_ROUTE.replace('Permission("admin")(db)', 'Admin("admin")(db)')),
            id="called-subclass-instance",
        ),
    ],
)
def test_a_callable_instance_also_called_directly_on_an_instance_built_in_place_blocks_naming_the_caller(
    cli, service, monkeypatch, parts
):
    """Moving `__call__` in place handed the route that stays synchronous a coroutine
    (`'coroutine' object has no attribute 'id'`) or an AsyncSession's method a Session."""
    root = service({SUBSYSTEM: routes(*parts)})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    assert "dependency api.items.Permission.__call__ receives the synchronous Session too" in found["reasons"][0]
    assert "is also called directly (api.items.create_direct)" in found["reasons"][0]
    direct = handler(document, "create_direct")
    assert direct["action"] == "blocked", direct
    assert "`Permission.__call__` is the `__call__` of Permission, whose instances are called directly" in direct["reasons"][0]
    assert "which phase two does not move" in direct["reasons"][0]
    assert document["files_changed"] == [] and read(root, SUBSYSTEM) == before
    assert run_paths(root, "sqlite", monkeypatch, ["/items", "/items/direct"]) == {
        "answers": [{"owner": "Ann+admin"}, {"owner": "Ann+admin+admin"}],
        "rows": [["a", 1], ["a", 1]], "owner": "Ann+admin+admin", "unraisable": [],
    }


OTHER = """
class Audit:
    def __init__(self, role: str) -> None:
        self.role = role

    def __call__(self, db: Session) -> User:
        user = db.get(User, 2)
        user.name = user.name + "+" + self.role
        return user
"""


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_direct_call_of_another_class_instance_leaves_the_dependency_free_to_move(
    cli, service, monkeypatch, kind
):
    direct = CALLED_ROUTE.replace('Permission("admin")(db)', 'Audit("admin")(db)')
    root = service({SUBSYSTEM: routes(SYNC_CALL, OTHER, IN_PLACE_ROUTE, direct)})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert "`Audit.__call__` is the `__call__` of Audit, whose instances are called directly" in handler(
        document, "create_direct"
    )["reasons"][0]
    text = read(root, SUBSYSTEM)
    assert "    async def __call__(self, db: AsyncSession = Depends(get_async_db_session)) -> User:" in text
    assert "    def __call__(self, db: Session) -> User:" in text
    assert run_paths(root, kind, monkeypatch, ["/items", "/items/direct"]) == {
        "answers": [{"owner": "Ann+admin"}, {"owner": "Bob+admin"}],
        "rows": [["a", 1], ["a", 2]], "owner": "Ann+admin", "unraisable": [],
    }


# A service class holding the Session, built by a callable-class provider and injected through
# an `Annotated` alias; a synchronous helper outside the subsystem also builds the service, so it
# gets a parallel async class while the provider, injected by the migrating routes alone, moves
# in place.
SERVICES = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item


class ItemService:
    def __init__(self, db: Session) -> None:
        self.db = db

    def create(self, name: str, owner_id: int) -> Item:
        item = Item(name=name, owner_id=owner_id)
        self.db.add(item)
        self.db.commit()
        return item

    def count(self) -> int:
        return self.db.scalar(select(func.count(Item.id)))


class ItemServiceProvider:
    def __call__(self, db: Session = Depends(get_db_session)) -> ItemService:
        return ItemService(db)


ItemServiceDep = Annotated[ItemService, Depends(ItemServiceProvider())]


def items_in_stock(db: Session) -> int:
    return ItemService(db).count()
"""
ALIAS_ROUTE = """
from fastapi import APIRouter

from services import ItemServiceDep

router = APIRouter()


@router.post("/items")
def create_item(name: str, svc: ItemServiceDep):
    item = svc.create(name, 1)
    return {"id": item.id, "count": svc.count()}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_an_alias_of_a_provider_moving_in_place_names_the_parallel_class(cli, service, monkeypatch, kind):
    """The route's `svc: ItemServiceDep` had been rewritten to `svc: ItemServiceAsync`, the alias's
    `Depends(...)` lost: FastAPI refused the class as a parameter type and the application did not
    import. The provider moves in place (only migrating routes inject it), and so does the alias,
    now annotated with the parallel class it builds: left naming `ItemService`, a synchronous route
    injecting it later would read as doing synchronous work and `check` would say nothing."""
    root = service({SUBSYSTEM: ALIAS_ROUTE, "services.py": SERVICES})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    text = read(root, SUBSYSTEM)
    assert "async def create_item(name: str, svc: ItemServiceDep):" in text
    assert "from services import ItemServiceDep\n" in text
    services = read(root, "services.py")
    assert "    async def __call__(self, db: AsyncSession = Depends(get_async_db_session)) -> ItemServiceAsync:" in services
    assert "\nItemServiceDep = Annotated[ItemServiceAsync, Depends(ItemServiceProvider())]\n" in services
    assert "def items_in_stock(db: Session) -> int:\n    return ItemService(db).count()" in services
    assert run_paths(root, kind, monkeypatch, ["/items"]) == {
        "answers": [{"id": 1, "count": 1}], "rows": [["a", 1]], "owner": "Ann", "unraisable": [],
    }
    # Run again: nothing left to change.
    assert apply(cli, root)["files_changed"] == []
