"""A service handed its repository (`UserService(repo: UserRepository)`, built by a dependency from
the repository's dependency) whose methods the subsystem's routes reach only in part, proved by running.

The service holds no Session itself: it composes the repository. Shared with code that stays
synchronous (a route of the subsystem that blocks, another router), it gets a parallel async class
whose `self.repo` is the repository's copy. Every method of that copy reaching the repository's
moved methods through `self.repo` must become `async def` with it: copied as they were, `find()`
would hand back the coroutine of `RepositoryAsync.get` never awaited, and phase two's self-check
blocked every route using the service for it. The copy holds the methods the migrating routes
run (and what those call), not those only the synchronous code reaches.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects, methods_of
from test_phase2_rules import handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

REPOSITORIES = """
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Base, Item

ModelT = TypeVar("ModelT", bound=Base)


class Repository(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, ident: int) -> ModelT | None:
        return self.session.get(self.model, ident)

    def names(self) -> list[str]:
        return [o.name for o in self.session.scalars(select(self.model).order_by(self.model.id))]

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(self.model)) or 0

    def add(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        self.session.commit()
        return obj


class ItemRepository(Repository[Item]):
    model = Item
"""
SERVICES = """
from models import Item
from repositories import ItemRepository


class ItemService:
    def __init__(self, repo: ItemRepository) -> None:
        self.repo = repo

    def names(self) -> list[str]:
        return self.repo.names()

    def create(self, name: str) -> int:
        return self.repo.add(Item(name=name, owner_id=1)).id

    def name_of(self, item_id: int) -> str | None:
        item = self.repo.get(item_id)
        return None if item is None else item.name

    def summary(self) -> dict:
        return {"count": self.repo.count(), "first": self.name_of(1)}
"""
DEPS = """
from typing import Annotated

from fastapi import Depends

from core.dependencies import session_dependency
from repositories import ItemRepository
from services import ItemService


def get_item_repo(db: session_dependency) -> ItemRepository:
    return ItemRepository(db)


def get_item_service(repo: Annotated[ItemRepository, Depends(get_item_repo)]) -> ItemService:
    return ItemService(repo)


ItemServiceDep = Annotated[ItemService, Depends(get_item_service)]
"""
ROUTES = """
from deps import ItemServiceDep


@router.get("/items")
def list_items(service: ItemServiceDep):
    return service.names()


@router.post("/items")
def add_item(name: str, service: ItemServiceDep):
    return {"id": service.create(name)}
"""
# Another router, left on the synchronous Session, keeps the service's original in use.
REPORTS = """
from fastapi import APIRouter

from deps import ItemServiceDep

router = APIRouter()


@router.get("/summary")
def summary(service: ItemServiceDep):
    return service.summary()
"""
MAIN = """
from fastapi import FastAPI

from api.items import router
from api.reports import router as reports

app = FastAPI()
app.include_router(router)
app.include_router(reports)
"""
RUN = """
    created = [client.post("/items", params={"name": n}).json() for n in ("a", "b")]
    names = client.get("/items").json()
    summary = client.get("/summary").json()
    with Sync() as s:
        rows = list(s.scalars(select(Item.name).order_by(Item.id)))
    print(json.dumps({"created": created, "names": names, "summary": summary, "rows": rows}))
"""


def tree(service):  # type: ignore[no-untyped-def]
    return service({
        "repositories.py": REPOSITORIES, "services.py": SERVICES, "deps.py": DEPS,
        SUBSYSTEM: routes(ROUTES), "api/reports.py": REPORTS, "main.py": MAIN,
    })


@pytest.mark.parametrize("kind", KINDS)
def test_the_service_copy_awaits_the_repository_in_every_method_and_the_routes_write(cli, service, kind):
    root = tree(service)
    before = serve(root, kind, RUN)
    document = apply_objects(cli, root)
    for route in ("list_items", "add_item"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)["reasons"]
    # The copy holds the methods the routes run, each awaiting the repository's copy; those only
    # the synchronous router calls (`summary`, `name_of`) stay with the original alone.
    assert methods_of(root, "services.py", "ItemServiceAsync") == {"__init__": False, "names": True, "create": True}
    text = read(root, "services.py")
    assert "return await self.repo.names()" in text, text
    assert "return (await self.repo.add(Item(name=name, owner_id=1))).id" in text, text
    assert methods_of(root, "repositories.py", "RepositoryAsync") == {"__init__": False, "names": True, "add": True}
    # The original stays whole for the router left on the synchronous Session.
    assert methods_of(root, "services.py", "ItemService") == {
        "__init__": False, "names": False, "create": False, "name_of": False, "summary": False,
    }
    assert "async def list_items(service: ItemServiceDep_async)" in read(root, SUBSYSTEM)
    after = serve(root, kind, RUN)
    assert after == before == {
        "created": [{"id": 1}, {"id": 2}], "names": ["a", "b"], "summary": {"count": 2, "first": "a"},
        "rows": ["a", "b"],
    }


def test_near_miss_a_service_method_working_on_a_repository_it_builds_itself_stays_as_written(cli, service):
    # `export` opens its own Session and builds the synchronous repository around it: nothing it
    # calls goes through `self.repo`, so the copy keeps it a plain def that still works.
    services = SERVICES.replace("from repositories import ItemRepository", (
        "from db.engine import database_sessionmaker\nfrom repositories import ItemRepository"
    )) + (
        "\n    def export(self) -> list[str]:\n"
        "        with database_sessionmaker() as s:\n"
        "            return ItemRepository(s).names()\n"
    )
    root = service({
        "repositories.py": REPOSITORIES, "services.py": services, "deps.py": DEPS,
        SUBSYSTEM: routes(ROUTES), "api/reports.py": REPORTS, "main.py": MAIN,
    })
    document = apply_objects(cli, root)
    assert handler(document, "list_items")["action"] == "migrate", handler(document, "list_items")
    assert methods_of(root, "services.py", "ItemServiceAsync")["export"] is False
    result = serve(root, "sqlite", RUN.replace(
        'print(json.dumps({"created"', 'from services import ItemServiceAsync\n    print(json.dumps({"export": '
        'ItemServiceAsync(None).export(), "created"'
    ))
    assert result["export"] == ["a", "b"] and result["names"] == ["a", "b"], result
