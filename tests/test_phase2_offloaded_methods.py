"""Phase two through a service method phase one's `--offload-mixed` handed to the threadpool,
proved by running.

`await run_in_threadpool(service.rename, item_id, name)` in a route that also awaits: phase two
rewrites it into `await service.rename(item_id, name)`, so the method's name written uncalled
there is no callback left behind. The service composes a repository handed to it, so both move
as parallel async classes (`ItemServiceAsync` holding an `ItemRepositoryAsync`) that the
migrated routes build, and the synchronous originals stay as they were for any other caller:
a callback table naming `ItemService.rename` keeps a synchronous method on a synchronous
repository. Before, the method got an async twin beside a synchronous original left calling the
repository that now awaits, and the self-check blocked every route of the service.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects, methods_of
from test_phase2_rules import handler, helper, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

SERVICES = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item


class ItemRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, id: int) -> Item | None:
        return self.session.get(Item, id)

    def save(self) -> None:
        self.session.commit()

    def names(self) -> list[str]:
        return list(self.session.scalars(select(Item.name).order_by(Item.id)))


class ItemService:
    def __init__(self, repo: ItemRepository) -> None:
        self.repo = repo

    def rename(self, id: int, name: str) -> str:
        item = self.repo.get(id)
        item.name = name
        self.repo.save()
        return item.name

    def names(self) -> list[str]:
        return self.repo.names()
"""
ROUTES = """
from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from services import ItemRepository, ItemService


def get_service(db: Session = Depends(get_db_session)) -> ItemService:
    return ItemService(ItemRepository(db))


@router.put("/items/{id}")
async def rename(id: int, request: Request, service: ItemService = Depends(get_service)):
    name = (await request.json())["name"]
    return {"name": await run_in_threadpool(service.rename, id, name)}


@router.get("/items")
async def names(service: ItemService = Depends(get_service)):
    return service.names()
"""
CHECK = """
    with Sync() as s:
        s.add_all([Item(name="a", owner_id=1), Item(name="b", owner_id=2)])
        s.commit()
    renamed = client.put("/items/2", json={"name": "z"}).json()
    names = client.get("/items").json()
    with Sync() as s:
        rows = list(s.scalars(select(Item.name).order_by(Item.id)))
    print(json.dumps({"renamed": renamed, "names": names, "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_method_handed_to_run_in_threadpool_moves_in_place_and_writes(cli, service, kind):
    root = service({"services.py": SERVICES, SUBSYSTEM: routes(ROUTES)})
    document = apply_objects(cli, root)
    for route in ("rename", "names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert helper(document, "ItemService.rename")["action"] == "twin", helper(document, "ItemService.rename")
    assert methods_of(root, "services.py", "ItemService") == {"__init__": False, "rename": False, "names": False}
    assert methods_of(root, "services.py", "ItemServiceAsync") == {"__init__": False, "rename": True, "names": True}
    assert methods_of(root, "services.py", "ItemRepositoryAsync") == {
        "__init__": False, "get": True, "save": True, "names": True,
    }
    text = read(root, SUBSYSTEM)
    assert "    return {\"name\": await service.rename(id, name)}" in text
    assert "ItemServiceAsync(ItemRepositoryAsync(db))" in text
    assert "run_in_threadpool" not in text
    assert serve(root, kind, CHECK) == {"renamed": {"name": "z"}, "names": ["a", "z"], "rows": ["a", "z"]}


def test_the_method_also_named_as_a_value_elsewhere_keeps_its_synchronous_original(cli, service):
    # A callback table may call ItemService.rename where the analysis cannot see: the original
    # stays synchronous on the synchronous repository, and the routes use the parallel classes.
    routes_text = ROUTES + """

CALLBACKS = {"rename": ItemService.rename}
"""
    root = service({"services.py": SERVICES, SUBSYSTEM: routes(routes_text)})
    document = apply_objects(cli, root)
    for route in ("rename", "names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert methods_of(root, "services.py", "ItemService") == {"__init__": False, "rename": False, "names": False}
    assert methods_of(root, "services.py", "ItemRepository") == {
        "__init__": False, "get": False, "save": False, "names": False,
    }
    text = read(root, SUBSYSTEM)
    assert 'CALLBACKS = {"rename": ItemService.rename}' in text
    assert "    return {\"name\": await service.rename(id, name)}" in text
    assert serve(root, "sqlite", CHECK) == {"renamed": {"name": "z"}, "names": ["a", "z"], "rows": ["a", "z"]}
