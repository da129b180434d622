"""Phase two through repositories declared by an abstract interface, proved by running.

Clean-architecture services declare the repository as an abstract class
(`AbstractRepository(ABC, Generic[ModelT])` with `@abstractmethod` stubs) that a
SQLAlchemy implementation holding the Session derives from. The interface runs no code of
its own, so it moves with the implementation: its declarations become `async def`. A
dependency building a service around the repository, injected only by migrating routes,
moves in place with it even when the repository gets a parallel async class. An interface
also implemented by a class that does not hold the Session (an in-memory fake) still blocks; a
base with method bodies of its own moves with the family too.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects, methods_of
from test_phase2_rules import handler, helper, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

REPOS = """
from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Base, Item, User

ModelT = TypeVar("ModelT", bound=Base)


class AbstractRepository(ABC, Generic[ModelT]):
    @abstractmethod
    def get(self, id_: int) -> ModelT | None: ...

    @abstractmethod
    def add(self, obj: ModelT) -> ModelT:
        \"\"\"Store the object and return it.\"\"\"
        raise NotImplementedError


class SqlAlchemyRepository(AbstractRepository[ModelT]):
    model: type[ModelT]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, id_: int) -> ModelT | None:
        return self.session.get(self.model, id_)

    def add(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        self.session.commit()
        return obj


class ItemRepository(SqlAlchemyRepository[Item]):
    model = Item

    def names(self) -> list[str]:
        return list(self.session.scalars(select(Item.name).order_by(Item.id)))


class UserRepository(SqlAlchemyRepository[User]):
    model = User
"""
SERVICES = """
from models import Item
from repos import ItemRepository


class ItemService:
    def __init__(self, repo: ItemRepository) -> None:
        self.repo = repo

    def create(self, name: str, owner_id: int) -> int:
        return self.repo.add(Item(name=name.strip(), owner_id=owner_id)).id

    def names(self) -> list[str]:
        return self.repo.names()
"""
ROUTES = """
from repos import ItemRepository
from services import ItemService


def get_item_service(db: Session = Depends(get_db_session)) -> ItemService:
    return ItemService(ItemRepository(db))


@router.post("/items")
async def add_item(name: str, service: ItemService = Depends(get_item_service)):
    return {"id": service.create(name, 1)}


@router.get("/items")
async def item_names(service: ItemService = Depends(get_item_service)):
    return service.names()
"""
CHECK = """
    made = [client.post("/items", params={"name": n}).json() for n in (" a ", "b")]
    names = client.get("/items").json()
    with Sync() as s:
        rows = [(i.name, i.owner_id) for i in s.scalars(select(Item).order_by(Item.id))]
    print(json.dumps({"made": made, "names": names, "rows": rows}))
"""
EXPECTED = {"made": [{"id": 1}, {"id": 2}], "names": ["a", "b"], "rows": [["a", 1], ["b", 1]]}


@pytest.mark.parametrize("kind", KINDS)
def test_an_abstract_repository_interface_moves_with_its_implementation_and_writes(cli, service, kind):
    root = service({"repos.py": REPOS, "services.py": SERVICES, SUBSYSTEM: routes(ROUTES)})
    document = apply_objects(cli, root)
    for route in ("add_item", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    for name in ("AbstractRepository.get", "AbstractRepository.add", "SqlAlchemyRepository.add"):
        assert helper(document, name)["action"] == "migrate", helper(document, name)
    # The declarations follow the implementations, so the interface still describes them.
    assert methods_of(root, "repos.py", "AbstractRepository") == {"get": True, "add": True}
    assert methods_of(root, "repos.py", "SqlAlchemyRepository") == {"__init__": False, "get": True, "add": True}
    assert "    @abstractmethod\n    async def get(self, id_: int) -> ModelT | None: ..." in read(root, "repos.py")
    assert serve(root, kind, CHECK) == EXPECTED


ADMIN = """
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from repos import UserRepository

router = APIRouter()


@router.get("/admin/users/{id}")
def admin_user(id: int, db: Session = Depends(get_db_session)):
    return {"name": UserRepository(db).get(id).name}
"""
TWO_ROUTERS = """
from fastapi import FastAPI

from api import admin, items

app = FastAPI()
app.include_router(items.router)
app.include_router(admin.router)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_service_dependency_around_a_parallel_repository_moves_in_place_and_both_paths_write(
    cli, service, kind
):
    # The repository family is shared with a route that stays synchronous (UserRepository in
    # api/admin.py), so it gets parallel async classes; the dependency building ItemService
    # around ItemRepository is injected by the migrating routes alone and moves in place,
    # building the parallel class: no synchronous original is left building ItemService, whose
    # methods now await the repository.
    root = service({
        "repos.py": REPOS, "services.py": SERVICES, SUBSYSTEM: routes(ROUTES), "api/admin.py": ADMIN,
        "main.py": TWO_ROUTERS,
    })
    document = apply_objects(cli, root)
    for route in ("add_item", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert helper(document, "get_item_service")["action"] == "migrate", helper(document, "get_item_service")
    assert helper(document, "AbstractRepository.get")["action"] == "twin"
    # The interface holds nothing, and ItemRepository is shared through its hierarchy: the
    # reasons say so, naming the synchronous user.
    assert helper(document, "AbstractRepository.get")["reasons"][0].startswith(
        "AbstractRepository declares the methods of classes holding the Session and "
    )
    assert (
        "ItemRepository holds the Session and moves with its class hierarchy, which code that stays "
        "synchronous also uses (api/admin.py:12 (api.admin.admin_user)"
    ) in helper(document, "ItemRepository.names")["reasons"][0]
    assert methods_of(root, "repos.py", "AbstractRepositoryAsync") == {"get": True, "add": True}
    assert methods_of(root, "repos.py", "AbstractRepository") == {"get": False, "add": False}
    text = read(root, "repos.py")
    assert "class SqlAlchemyRepositoryAsync(AbstractRepositoryAsync[ModelT]):" in text
    items = read(root, SUBSYSTEM)
    assert "async def get_item_service(db: AsyncSession = Depends(get_async_db_session)) -> ItemService:" in items
    assert "    return ItemService(ItemRepositoryAsync(db))" in items
    assert "get_item_service_async" not in items
    assert "return {\"name\": UserRepository(db).get(id).name}" in read(root, "api/admin.py")
    script = CHECK.replace("    print(", "    admin = client.get('/admin/users/2').json()\n    print(").replace(
        '"rows": rows}', '"rows": rows, "admin": admin}'
    )
    assert serve(root, kind, script) == {**EXPECTED, "admin": {"name": "Bob"}}


# ------------------------------------------------------------------ near misses

FAKE = """


class InMemoryItemRepository(AbstractRepository[Item]):
    def __init__(self) -> None:
        self.rows: dict[int, Item] = {}

    def get(self, id_: int) -> Item | None:
        return self.rows.get(id_)

    def add(self, obj: Item) -> Item:
        self.rows[len(self.rows) + 1] = obj
        return obj
"""


def test_near_miss_an_interface_also_implemented_without_the_session_blocks_naming_it(cli, service):
    root = service({"repos.py": REPOS + FAKE, "services.py": SERVICES, SUBSYSTEM: routes(ROUTES)})
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = apply_objects(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked" and "AM253" in found["codes"], found
    assert (
        "SqlAlchemyRepository inherits from the project class AbstractRepository, which does not hold the "
        "Session and is implemented also by InMemoryItemRepository, which does not move with it"
    ) in " | ".join(found["reasons"])
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


def test_a_base_with_a_method_body_moves_with_the_family(cli, service):
    # `get_or_none` calls `get`, which moves: it becomes `async def` awaiting it (a base with method
    # bodies of its own and no other implementation joins the family, as Cosmic Python's
    # AbstractUnitOfWork does: test_phase2_uow_base.py).
    repos = REPOS.replace(
        "    def add(self, obj: ModelT) -> ModelT:\n        \"\"\"Store the object and return it.\"\"\"\n"
        "        raise NotImplementedError\n",
        "    def add(self, obj: ModelT) -> ModelT:\n        \"\"\"Store the object and return it.\"\"\"\n"
        "        raise NotImplementedError\n\n    def get_or_none(self, id_: int) -> ModelT | None:\n"
        "        return self.get(id_)\n",
    )
    root = service({"repos.py": repos, "services.py": SERVICES, SUBSYSTEM: routes(ROUTES)})
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert "    async def get_or_none(self, id_: int) -> ModelT | None:\n        return await self.get(id_)\n" in read(
        root, "repos.py"
    )
    assert serve(root, "sqlite", CHECK) == EXPECTED


PROTOCOL_SERVICES = """
from typing import Protocol

from models import Item
from repos import ItemRepository


class ItemStore(Protocol):
    def add(self, obj: Item) -> Item: ...

    def names(self) -> list[str]: ...


class ItemService:
    def __init__(self, repo: ItemStore) -> None:
        self.repo = repo

    @staticmethod
    def clean(name: str) -> str:
        return name.strip()

    def create(self, name: str, owner_id: int) -> int:
        return self.repo.add(Item(name=ItemService.clean(name), owner_id=owner_id)).id

    def names(self) -> list[str]:
        return self.repo.names()
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_service_typed_with_a_protocol_holds_what_its_one_builder_passes_and_writes(cli, service, kind):
    # `ItemService(repo: ItemStore)`: the Protocol stands for every class with its methods, and
    # once the repository gets a parallel async class that is both ItemRepository and
    # ItemRepositoryAsync. The one call building ItemService passes the async one: the service's
    # awaited calls reach async methods only, and the routes move (they were blocked by the
    # self-check, which read `self.repo` as the synchronous repository too).
    root = service({
        "repos.py": REPOS, "services.py": PROTOCOL_SERVICES, SUBSYSTEM: routes(ROUTES), "api/admin.py": ADMIN,
        "main.py": TWO_ROUTERS,
    })
    document = apply_objects(cli, root)
    for route in ("add_item", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert methods_of(root, "services.py", "ItemService") == {
        "__init__": False, "clean": False, "create": True, "names": True,
    }
    assert "    return ItemService(ItemRepositoryAsync(db))" in read(root, SUBSYSTEM)
    script = CHECK.replace("    print(", "    admin = client.get('/admin/users/2').json()\n    print(").replace(
        '"rows": rows}', '"rows": rows, "admin": admin}'
    )
    assert serve(root, kind, script) == {**EXPECTED, "admin": {"name": "Bob"}}


def test_near_miss_a_service_class_named_as_a_value_keeps_every_implementation_of_its_protocol(cli, service):
    # `SERVICE_CLASS = ItemService`: code the analysis cannot follow may build it with anything
    # implementing ItemStore, the synchronous repository too.
    services = PROTOCOL_SERVICES + "\n\nSERVICE_CLASS = ItemService\n"
    root = service({
        "repos.py": REPOS, "services.py": services, SUBSYSTEM: routes(ROUTES), "api/admin.py": ADMIN,
        "main.py": TWO_ROUTERS,
    })
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = apply_objects(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked", found
    assert "AM223" in found["codes"], found
    assert "calls repos.SqlAlchemyRepository.add, which does synchronous Session work" in " ".join(found["reasons"])
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


CHAINED_ROUTES = ROUTES.replace(
    """def get_item_service(db: Session = Depends(get_db_session)) -> ItemService:
    return ItemService(ItemRepository(db))""",
    """def get_item_repository(db: Session = Depends(get_db_session)) -> ItemRepository:
    return ItemRepository(db)


def get_item_service(repo: ItemRepository = Depends(get_item_repository)) -> ItemService:
    return ItemService(repo)""",
)


@pytest.mark.parametrize("kind", KINDS)
def test_a_service_dependency_given_the_repository_by_a_dependency_moves_in_place_and_writes(cli, service, kind):
    # `get_item_service(repo: ItemRepository = Depends(get_item_repository))`: injected by the
    # migrating routes alone, it moves in place, given the twin's parallel repository; as a twin
    # its original built ItemService (moved in place) around the synchronous repository.
    root = service({
        "repos.py": REPOS, "services.py": SERVICES, SUBSYSTEM: routes(CHAINED_ROUTES), "api/admin.py": ADMIN,
        "main.py": TWO_ROUTERS,
    })
    document = apply_objects(cli, root)
    for route in ("add_item", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert helper(document, "get_item_repository")["action"] == "twin"
    assert helper(document, "get_item_service")["action"] == "migrate"
    items = read(root, SUBSYSTEM)
    assert (
        "def get_item_service(repo: ItemRepositoryAsync = Depends(get_item_repository_async)) -> ItemService:"
    ) in items
    assert "get_item_service_async" not in items
    script = CHECK.replace("    print(", "    admin = client.get('/admin/users/2').json()\n    print(").replace(
        '"rows": rows}', '"rows": rows, "admin": admin}'
    )
    assert serve(root, kind, script) == {**EXPECTED, "admin": {"name": "Bob"}}
