"""An `async def` generator dependency between the route and the Session, in the fastapi-users
manner: `async def get_user_manager(user_db = Depends(get_user_db)): yield UserManager(user_db)`,
`get_user_db` yielding an adapter built on the request's Session. Phase two blocked every route
reaching it with "is an async generator, which phase two does not rewrite: ... await its Session
calls by hand", for a dependency making no Session call (found by a new-user trial): a plain
`def` generator in its place got an async twin. FastAPI iterates both kinds alike, so the async
one gets its twin too, its Session calls awaited, and the routes' writes land on each database.
The twin of a plain `def` generator dependency making no Session call stays a `def`, and kept its
`Iterator[...]` annotation no longer: it said `AsyncIterator[...]` on a synchronous generator.
Near miss: an async generator the route iterates itself, no dependency, still blocks."""

from __future__ import annotations

import pytest
from phase2_kit import KINDS
from test_phase2_mixed_routes import SUBSYSTEM, SYNC_ENGINE, routes, serve, service  # noqa: F401
from test_phase2_rules import apply, function, handler, helper, read

HEAD = """
from collections.abc import AsyncIterator, Iterator

from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item, User

router = APIRouter()
"""
CHAIN = """
class ItemStore:
    def __init__(self, db: Session):
        self.db = db

    def add(self, name: str, owner_id: int) -> Item:
        item = Item(name=name, owner_id=owner_id)
        self.db.add(item)
        self.db.commit()
        return item


class ItemService:
    def __init__(self, store: ItemStore, owner_id: int):
        self.store = store
        self.owner_id = owner_id

    def add(self, name: str) -> Item:
        return self.store.add(name, self.owner_id)


def get_store(db: Session = Depends(get_db_session)) -> Iterator[ItemStore]:
    yield ItemStore(db)


{kw}def get_service(store: ItemStore = Depends(get_store)) -> {iterator}[ItemService]:
    {body}
"""
# Only what it is handed: the fastapi-users `get_user_manager`.
PLAIN = "yield ItemService(store, 1)"
# Session work of its own, awaited in its twin.
COUNTING = "owner = store.db.scalar(select(func.min(User.id)))\n    yield ItemService(store, owner)"
ROUTE = """
@router.post("/items")
def add_item(name: str, service: ItemService = Depends(get_service)):
    item = service.add(name)
    return {"name": item.name}
"""
# A route the subsystem leaves alone keeps the synchronous chain: the dependencies get twins.
LEGACY = """
from fastapi import APIRouter, Depends

from api.items import ItemService, get_service

legacy = APIRouter()


@legacy.post("/legacy/items")
def add_legacy(name: str, service: ItemService = Depends(get_service)):
    return {"name": service.add(name).name}
"""
MAIN = """
from fastapi import FastAPI

from api.items import router
from api.legacy import legacy

app = FastAPI()
app.include_router(router)
app.include_router(legacy)
"""


def _root(service, body: str, kw: str = "async "):  # type: ignore[no-untyped-def]  # noqa: F811
    chain = CHAIN.replace("{kw}", kw).replace("{iterator}", "AsyncIterator" if kw else "Iterator")
    return service({
        "db/engine.py": SYNC_ENGINE,
        "core/deps.py": "",
        "main.py": MAIN,
        "api/legacy.py": LEGACY,
        SUBSYSTEM: routes(chain.replace("{body}", body), ROUTE, head=HEAD),
    })


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("kw", "body"), [("async ", PLAIN), ("async ", COUNTING), ("", PLAIN), ("", COUNTING)],
    ids=["async-plain", "async-session-work", "def-plain", "def-session-work"],
)
def test_a_generator_dependency_gets_a_twin_and_the_writes_land(cli, service, kind, kw, body):  # noqa: F811
    root = _root(service, body, kw)
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "migrate", found
    assert helper(document, "get_service")["action"] == "twin", helper(document, "get_service")
    twin = function(root, SUBSYSTEM, "get_service_async")
    # a `def` twin awaiting nothing stays a synchronous generator, annotated as one
    stays = not kw and body == PLAIN
    header = "def get_service_async" if stays else "async def get_service_async"
    iterator = "Iterator" if stays else "AsyncIterator"
    assert twin.startswith(
        f"{header}(store: ItemStoreAsync = Depends(get_store_async)) -> {iterator}[ItemServiceAsync]:"
    ), twin
    if body == COUNTING:
        assert "owner = await store.db.scalar(" in twin, twin
    # the synchronous chain stays for the route left alone
    assert "Depends(get_service)" in read(root, "api/legacy.py")
    result = serve(root, kind, """
        first = client.post("/items", params={"name": "pen"})
        second = client.post("/legacy/items", params={"name": "ink"})
        with Sync() as s:
            items = sorted((i.name, i.owner_id) for i in s.scalars(select(Item)))
        print(json.dumps({"status": [first.status_code, second.status_code], "items": items}))
    """)
    assert result == {"status": [200, 200], "items": [["ink", 1], ["pen", 1]]}


def test_near_miss_an_async_generator_the_route_iterates_stays_blocked(cli, service):  # noqa: F811
    root = service({
        "db/engine.py": SYNC_ENGINE,
        "core/deps.py": "",
        SUBSYSTEM: routes("""
            async def names(db: Session):
                for item in db.scalars(select(Item)):
                    yield item.name
            """, """
            @router.get("/names")
            async def list_names(db: Session = Depends(get_db_session)):
                return [name async for name in names(db)]
            """, head=HEAD),
    })
    found = handler(apply(cli, root), "list_names")
    assert found["action"] == "blocked" and "AM216" in found["codes"], found
    assert "is an async generator" in " ".join(found["reasons"]), found
