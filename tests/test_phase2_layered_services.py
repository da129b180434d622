"""Phase two through a layered service that reaches the Session only through its repositories, proved by running.

`ItemService.__init__(self, db)` builds `self.repo = ItemRepository(db)` and keeps no `self.db`; a
dependency `get_item_service(db = Depends(get_db))` builds it and routes inject it. The service
moves with its repositories (in place, or as parallel `*Async` classes where synchronous code
keeps using it), its methods awaited up the chain; so do the shapes of the same kind: a
service building another service, repositories handed in (`ItemService(repo=ItemRepository(db))`,
a dataclass of repositories) and a generic `BaseRepository[ModelT]`. A repository built lazily
by a property blocks, naming the property.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_composed_services import RUN
from test_phase2_holders import RELATED_MODELS
from test_phase2_objects import apply_objects, methods_of
from test_phase2_rules import handler, read
from test_phase2_soundness import routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

SERVICES = """
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item


class ItemRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def names(self) -> list[str]:
        return list(self.db.scalars(select(Item.name).order_by(Item.id)))

    def add(self, name: str) -> Item:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item


class AuditRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def count(self) -> int:
        return len(list(self.db.scalars(select(Item.id))))


class ItemService:
    def __init__(self, db: Session) -> None:
        self.repo = ItemRepository(db)
        self.audit = AuditRepository(db)

    def names(self) -> list[str]:
        return self.repo.names()

    def add(self, name: str) -> int:
        item = self.repo.add(name)
        self.audit.count()
        return item.id


def get_item_service(db: Session = Depends(get_db_session)) -> ItemService:
    return ItemService(db)
"""
ROUTES = """
from services import ItemService, get_item_service


@router.get("/items")
def list_items(service: ItemService = Depends(get_item_service)):
    return service.names()


@router.post("/items")
def add_item(name: str, service: ItemService = Depends(get_item_service)):
    return {"id": service.add(name)}
"""


WORKER = """
from db.engine import database_sessionmaker
from services import get_item_service


def export() -> list[str]:
    with database_sessionmaker() as s:
        return get_item_service(s).names()
"""
REPOSITORIES = SERVICES[:SERVICES.index("class ItemService:")]
GET_SERVICE = SERVICES[SERVICES.index("def get_item_service"):]
VARIANTS = {
    "basic": SERVICES,
    "nested-service": SERVICES.replace(GET_SERVICE, """
class OrderService:
    def __init__(self, db: Session) -> None:
        self.items = ItemService(db)

    def names(self) -> list[str]:
        return self.items.names()

    def add(self, name: str) -> int:
        return self.items.add(name)


def get_item_service(db: Session = Depends(get_db_session)) -> OrderService:
    return OrderService(db)
"""),
    "passed-in": SERVICES.replace("""    def __init__(self, db: Session) -> None:
        self.repo = ItemRepository(db)
        self.audit = AuditRepository(db)
""", """    def __init__(self, repo: ItemRepository, audit: AuditRepository) -> None:
        self.repo = repo
        self.audit = audit
""").replace("return ItemService(db)", "return ItemService(repo=ItemRepository(db), audit=AuditRepository(db))"),
    "dataclass": SERVICES.replace("""class ItemService:
    def __init__(self, db: Session) -> None:
        self.repo = ItemRepository(db)
        self.audit = AuditRepository(db)
""", """@dataclass
class ItemService:
    repo: ItemRepository
    audit: AuditRepository
""").replace("return ItemService(db)", "return ItemService(ItemRepository(db), AuditRepository(db))").replace(
        "from fastapi import Depends", "from dataclasses import dataclass\n\nfrom fastapi import Depends"),
}
# The repository built lazily from the Session the service holds: blocks, naming the property.
LAZY = SERVICES.replace("""    def __init__(self, db: Session) -> None:
        self.repo = ItemRepository(db)
        self.audit = AuditRepository(db)
""", """    def __init__(self, db: Session) -> None:
        self._db = db

    @cached_property
    def repo(self) -> ItemRepository:
        return ItemRepository(self._db)

    @property
    def audit(self) -> AuditRepository:
        return AuditRepository(self._db)
""").replace("from fastapi import Depends", "from functools import cached_property\n\nfrom fastapi import Depends")
VARIANTS |= {
    "generic-base": SERVICES.replace(REPOSITORIES[REPOSITORIES.index("class ItemRepository"):REPOSITORIES.index("    def names")], '''ModelT = TypeVar("ModelT", bound=Base)


class BaseRepository(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, id: int) -> ModelT | None:
        return self.db.get(self.model, id)


class ItemRepository(BaseRepository[Item]):
    model = Item

''').replace("class AuditRepository:", "class AuditRepository(BaseRepository[Item]):\n    model = Item\n").replace(
        "from models import Item", "from typing import Generic, TypeVar\n\nfrom models import Base, Item"),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("shared", [False, True], ids=["in-place", "parallel"])
def test_a_layered_service_moves_with_its_repositories_and_writes(cli, service, variant, shared):
    nested = variant == "nested-service"
    files = {
        "models.py": RELATED_MODELS, "services.py": VARIANTS[variant],
        SUBSYSTEM: routes(ROUTES.replace("ItemService", "OrderService") if nested else ROUTES),
    }
    if shared:
        files["worker.py"] = WORKER  # synchronous code still building the service
    root = service(files)
    document = apply_objects(cli, root)
    for route in ("list_items", "add_item"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)["reasons"]
    outer = "OrderService" if nested else "ItemService"
    if shared:
        # The originals stay synchronous for worker.py; the routes use the copies.
        assert set(methods_of(root, "services.py", outer).values()) == {False}
        assert set(methods_of(root, "services.py", "ItemRepository").values()) == {False}
        copied = methods_of(root, "services.py", outer + "Async")
        assert copied["names"] and copied["add"], copied
        assert "get_item_service_async" in read(root, SUBSYSTEM)
    else:
        moved = methods_of(root, "services.py", outer)
        assert moved["names"] and moved["add"], moved
        assert "await service.names()" in read(root, SUBSYSTEM)
    run = RUN
    if shared:
        run = RUN.replace('print(json.dumps({"first"', 'import worker\n    print(json.dumps({"worker": worker.export(), "first"')
    result = serve(root, "sqlite", run)
    assert result.pop("worker", ["a"]) == ["a"]
    assert result == {"first": {"id": 1}, "names": ["a"], "rows": ["a"]}


def test_a_repository_a_property_builds_lazily_blocks_naming_the_property(cli, service):
    root = service({"models.py": RELATED_MODELS, "services.py": LAZY, SUBSYSTEM: routes(ROUTES)})
    document = apply_objects(cli, root)
    for route in ("list_items", "add_item"):
        found = handler(document, route)
        assert found["action"] == "blocked", found
    # Either property may be named (the class's methods block together): each says which one and where.
    named = {
        "services.py:37: `ItemService.repo` is a property (`@cached_property`) building `ItemRepository(self._db)`",
        "services.py:41: `ItemService.audit` is a property (`@property`) building `AuditRepository(self._db)`",
    }
    assert any(
        any(r.startswith(start) for start in named) and "around the Session ItemService holds" in r
        and "`ItemService.__init__` builds it" in r
        for r in handler(document, "list_items")["reasons"]
    ), handler(document, "list_items")["reasons"]
    assert document["files_changed"] == []


def test_near_miss_a_service_handing_the_session_to_a_helper_in_init_blocks(cli, service):
    # Not composition alone: `__init__` runs Session work through a helper, which cannot be awaited there.
    services = SERVICES.replace(
        "        self.audit = AuditRepository(db)\n",
        "        self.audit = AuditRepository(db)\n        self.first = first_name(db)\n",
    ) + """

def first_name(db: Session) -> str | None:
    return db.scalars(select(Item.name)).first()
"""
    root = service({"models.py": RELATED_MODELS, "services.py": services, SUBSYSTEM: routes(ROUTES)})
    document = apply_objects(cli, root)
    found = handler(document, "list_items")
    assert found["action"] == "blocked", found
    assert any("ItemService.__init__ calls services.first_name with the Session" in r for r in found["reasons"]), found
    assert document["files_changed"] == []


def test_near_miss_a_service_reaching_through_a_repository_to_its_session_blocks_that_route_naming_the_line(cli, service):
    # `self.repo.db.commit()`: the service does Session work on its repository's Session itself.
    services = SERVICES.replace("        self.audit.count()\n", "        self.audit.count()\n        self.repo.db.commit()\n")
    root = service({"models.py": RELATED_MODELS, "services.py": services, SUBSYSTEM: routes(ROUTES)})
    document = apply_objects(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked", found
    assert any(
        r.startswith("services.py:42: ") and "does Session work on `self.repo.db.commit()`" in r for r in found["reasons"]
    ), found["reasons"]
    # `add` is left out of the service's parallel copy (its repositories' copies serve the rest):
    # list_items moves onto it, add_item keeps the synchronous original, and both still run.
    assert handler(document, "list_items")["action"] == "migrate", handler(document, "list_items")["reasons"]
    assert methods_of(root, "services.py", "ItemServiceAsync") == {"__init__": False, "names": True}
    assert serve(root, "sqlite", RUN) == {"first": {"id": 1}, "names": ["a"], "rows": ["a"]}


# The service as a class dependency (`Depends()` on the class, the Session a default of its `__init__`).
CLASS_DEPENDENCY = SERVICES.replace(
    "    def __init__(self, db: Session) -> None:\n        self.repo = ItemRepository(db)",
    "    def __init__(self, db: Session = Depends(get_db_session)) -> None:\n        self.repo = ItemRepository(db)",
)
CLASS_ROUTES = ROUTES.replace("Depends(get_item_service)", "Depends()")


@pytest.mark.parametrize("shared", [False, True], ids=["in-place", "parallel"])
def test_a_layered_class_dependency_moves_with_its_repositories_and_writes(cli, service, shared):
    files = {"models.py": RELATED_MODELS, "services.py": CLASS_DEPENDENCY, SUBSYSTEM: routes(CLASS_ROUTES)}
    if shared:
        files["worker.py"] = WORKER
    root = service(files)
    document = apply_objects(cli, root)
    for route in ("list_items", "add_item"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)["reasons"]
    run = RUN
    if shared:
        run = RUN.replace('print(json.dumps({"first"', 'import worker\n    print(json.dumps({"worker": worker.export(), "first"')
    result = serve(root, "sqlite", run)
    assert result.pop("worker", ["a"]) == ["a"]
    assert result == {"first": {"id": 1}, "names": ["a"], "rows": ["a"]}
