"""Phase two through a service that builds its repositories from the Session it keeps, proved by running.

`ItemService.__init__(self, session)` stores the Session and builds
`self.items = ItemRepository(session)`: the composition moves as a whole (in place, or as
parallel `*Async` classes whose `__init__` builds the repository's copy), `scan`'s preview
says what `phase2` then does, and the migrated application writes through both classes.
A parallel copy carries the methods the migrating code runs (a later subsystem adds those it
needs); a method a migrating route reaches is judged like any migrated code.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_holders import RELATED_MODELS
from test_phase2_objects import apply_objects, methods_of
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

SERVICES = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item


class ItemRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def names(self) -> list[str]:
        return list(self.session.scalars(select(Item.name).order_by(Item.id)))

    def owner_name(self, item_id: int) -> str:
        item = self.session.get(Item, item_id)
        return item.owner.name  # a lazy load: MissingGreenlet on an AsyncSession


class ItemService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.items = ItemRepository(session)

    def names(self) -> list[str]:
        return self.items.names()

    def add(self, name: str) -> int:
        item = Item(name=name, owner_id=1)
        self.session.add(item)
        self.session.commit()
        return item.id
"""
ROUTES = """
from services import ItemService


@router.get("/items")
def list_items(db: session_dependency):
    return ItemService(db).names()


@router.post("/items")
def add_item(name: str, db: session_dependency):
    return {"id": ItemService(db).add(name)}
"""
# Synchronous code elsewhere (a CLI, a worker) that keeps using the service and the repository.
WORKER = """
from db.engine import database_sessionmaker
from services import ItemRepository, ItemService


def export() -> dict:
    with database_sessionmaker() as s:
        return {"names": ItemService(s).names(), "owner": ItemRepository(s).owner_name(1)}
"""
RUN = """
    first = client.post("/items", params={"name": "a"}).json()
    names = client.get("/items").json()
    with Sync() as s:
        rows = list(s.scalars(select(Item.name).order_by(Item.id)))
    print(json.dumps({"first": first, "names": names, "rows": rows}))
"""


def _preview(cli, root) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """scan's phase-two action for each route of the subsystem."""
    found = cli.json("scan", root)["handlers"]
    return {h["function"]: h["phase2"]["action"] for h in found if h.get("subsystem") == SUBSYSTEM}


@pytest.mark.parametrize("shared", [False, True], ids=["in-place", "parallel"])
def test_a_service_building_its_repository_migrates_as_scan_says_and_writes(cli, service, shared):
    files = {"models.py": RELATED_MODELS, "services.py": SERVICES, SUBSYSTEM: routes(ROUTES)}
    if shared:
        files["worker.py"] = WORKER
    root = service(files)
    assert _preview(cli, root) == {"list_items": "migrate", "add_item": "migrate"}
    document = apply_objects(cli, root)
    for route in ("list_items", "add_item"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    text = read(root, "services.py")
    if shared:
        # The copy's `__init__` builds the repository's copy; the originals stay for worker.py.
        assert "        self.items = ItemRepositoryAsync(session)" in text
        assert "return await ItemServiceAsync(db).names()" in read(root, SUBSYSTEM)
        assert methods_of(root, "services.py", "ItemService") == {"__init__": False, "names": False, "add": False}
    else:
        assert "    def __init__(self, session: AsyncSession) -> None:" in text
        assert "        self.items = ItemRepository(session)" in text
    result = serve(root, "sqlite", RUN)
    assert result == {"first": {"id": 1}, "names": ["a"], "rows": ["a"]}
    if shared:
        assert serve(root, "sqlite", RUN.replace(
            'print(json.dumps({"first"', 'import worker\n    print(json.dumps({"worker": worker.export(), "first"'
        ))["worker"] == {"names": ["a"], "owner": "Ann"}


def test_a_route_reaching_a_copied_method_gets_it_judged(cli, service):
    owner = """
    @router.get("/items/{item_id}/owner")
    def item_owner(item_id: int, db: session_dependency):
        return ItemRepository(db).owner_name(item_id)
    """
    root = service({
        "models.py": RELATED_MODELS, "services.py": SERVICES, "worker.py": WORKER,
        SUBSYSTEM: routes(ROUTES.replace("import ItemService", "import ItemRepository, ItemService"), owner),
    })
    document = apply_objects(cli, root)
    # Reached, the method is judged like any migrated code: its lazy load gets the eager load, in
    # the copy the route uses (the original stays as it was for worker.py).
    found = handler(document, "item_owner")
    assert found["action"] == "migrate", found
    assert any(
        "adds the eager load of Item.owner to the query in services.ItemRepository.owner_name" in r
        for r in found["reasons"]
    ), found["reasons"]
    assert handler(document, "list_items")["action"] == "migrate"
    text = read(root, "services.py")
    assert "item = self.session.get(Item, item_id)" in text, text
    assert (
        "item = (await self.session.scalars(select(Item).where(Item.id == item_id)"
        ".options(selectinload(Item.owner)))).one_or_none()"
    ) in text, text
    assert serve(root, "sqlite", """
        with Sync() as s:
            s.add(Item(name="pen", owner_id=2))
            s.commit()
        print(json.dumps(client.get("/items/1/owner").json()))
    """) == "Bob"


def test_near_miss_a_repository_that_cannot_move_blocks_naming_where_the_service_builds_it(cli, service):
    services = SERVICES.replace("class ItemRepository:", "class ItemRepository(Unseen):").replace(
        "from models import Item", "from models import Item\nfrom outside import Unseen"
    )
    root = service({"models.py": RELATED_MODELS, "services.py": services, SUBSYSTEM: routes(ROUTES)})
    assert _preview(cli, root) == {"list_items": "blocked", "add_item": "blocked"}
    document = apply_objects(cli, root)
    # add_item never calls the repository, but its service's `__init__` builds it.
    # The class's reasons are listed once, at the first route meeting it; the other points there.
    found = handler(document, "add_item")
    assert found["action"] == "blocked", found
    assert any("the route uses ItemRepository, which cannot move as a class" in r for r in found["reasons"]), found["reasons"]
    reasons = [r for name in ("list_items", "add_item") for r in handler(document, name)["reasons"]]
    assert any("`outside.Unseen`" in r and r.endswith("; built at services.py:23") for r in reasons), reasons
    assert document["files_changed"] == []


def test_a_second_subsystem_reuses_the_parallel_copy_the_first_wrote(cli, service):
    # Subsystem by subsystem, as users migrate: the second needs a method of the repository the
    # first subsystem's routes never ran. One parallel class serves both, never a second copy.
    counts = routes("""
    from services import ItemRepository


    @router.get("/count")
    def count_names(db: session_dependency):
        return len(ItemRepository(db).names()) + len(ItemRepository(db).first_names())
    """)
    services = SERVICES.replace(
        "    def owner_name(self, item_id: int) -> str:",
        "    def first_names(self) -> list[str]:\n"
        "        return list(self.session.scalars(select(Item.name).order_by(Item.id).limit(1)))\n\n"
        "    def owner_name(self, item_id: int) -> str:",
    )
    root = service({
        "models.py": RELATED_MODELS, "services.py": services, SUBSYSTEM: routes(ROUTES), "worker.py": WORKER,
        "api/counts.py": counts,
        "main.py": test_phase2_soundness.MAIN + "\nfrom api import counts\n\napp.include_router(counts.router)\n",
    })
    apply_objects(cli, root)
    apply(cli, root, "--jobs", "1", subsystem="api/counts.py")
    text = read(root, "services.py")
    assert "class ItemRepositoryAsync2" not in text and "class ItemServiceAsync2" not in text
    migrated = "return len(await ItemRepositoryAsync(db).names()) + len(await ItemRepositoryAsync(db).first_names())"
    assert migrated in read(root, "api/counts.py")
    run = RUN.replace("names = client.get", 'count = client.get("/count").json()\n    names = client.get')
    result = serve(root, "sqlite", run.replace('{"first": first', '{"count": count, "first": first'))
    assert result == {"count": 2, "first": {"id": 1}, "names": ["a"], "rows": ["a"]}
