"""Phase two's soundness: a parallel async class whose definition registers it (AM253).

A repository hierarchy shared with code that stays synchronous gets parallel async classes
(`ItemRepositoryAsync`, AM255). Where defining a class of it registers the class (a base's
`__init_subclass__` keyed by a class keyword, `class ItemRepository(Repository[Item], model=Item)`;
a class decorator; a metaclass), the copy registered itself in the original's place: the
synchronous router looking the repository up (`repository_for(Item, db).add(item)`) got the copy,
whose `add` is a coroutine function, and its rows were never written. Such a hierarchy is not
copied: the routes needing the copy are blocked, naming the line, and the synchronous router
still writes. Proved by running both routers after the migration.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects
from test_phase2_rules import handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

REPOSITORIES = """
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Base, Item

ModelT = TypeVar("ModelT", bound=Base)
REGISTRY: dict[type, type] = {}


def register(cls):
    REGISTRY[cls.model] = cls
    return cls


class Repository(Generic[ModelT]):
    model: type[ModelT]
HOOK
    def __init__(self, session: Session) -> None:
        self.session = session

    def names(self) -> list[str]:
        return [o.name for o in self.session.scalars(select(self.model).order_by(self.model.id))]

    def add(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        self.session.flush()
        return obj


DECORATORclass ItemRepository(Repository[Item]KEYWORD):
    model = Item


def repository_for(model, session: Session):
    return REGISTRY[model](session)
"""
HOOK = """
    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        REGISTRY[cls.model] = cls
"""
SHAPES = {
    # (the base's hook, the subclass's decorator, what the blocking reason names)
    "init_subclass": (HOOK, "", "Repository.__init_subclass__"),
    "decorator": ("", "@register\n", "the class decorator `@register` of ItemRepository"),
}
DEPS = """
from typing import Annotated

from fastapi import Depends

from core.dependencies import session_dependency
from repositories import ItemRepository


def get_item_repo(db: session_dependency) -> ItemRepository:
    return ItemRepository(db)


ItemRepoDep = Annotated[ItemRepository, Depends(get_item_repo)]
"""
ROUTES = """
from deps import ItemRepoDep


@router.get("/items")
def list_items(repo: ItemRepoDep):
    return repo.names()
"""
# Another router, left on the synchronous Session, looks the repository up in the registry.
ADMIN = """
from fastapi import APIRouter

from core.dependencies import session_dependency
from deps import ItemRepoDep
from models import Item
from repositories import repository_for

router = APIRouter()


@router.post("/admin/items")
def add_item(name: str, db: session_dependency):
    repository_for(Item, db).add(Item(name=name, owner_id=1))
    db.commit()
    return {"ok": True}


@router.get("/admin/items")
def admin_names(repo: ItemRepoDep):
    return repo.names()
"""
MAIN = """
from fastapi import FastAPI

from api.admin import router as admin
from api.items import router

app = FastAPI()
app.include_router(router)
app.include_router(admin)
"""
RUN = """
    added = [client.post("/admin/items", params={"name": n}).status_code for n in ("a", "b")]
    names = client.get("/items").json()
    with Sync() as s:
        rows = list(s.scalars(select(Item.name).order_by(Item.id)))
    print(json.dumps({"added": added, "names": names, "rows": rows}))
"""
EXPECTED = {"added": [200, 200], "names": ["a", "b"], "rows": ["a", "b"]}


def _tree(service, shape: str):  # type: ignore[no-untyped-def]
    hook, decorator, _ = SHAPES[shape]
    repositories = REPOSITORIES.replace("HOOK", hook).replace("DECORATOR", decorator).replace("KEYWORD", "")
    return service({
        "repositories.py": repositories, "deps.py": DEPS, SUBSYSTEM: routes(ROUTES), "api/admin.py": ADMIN,
        "main.py": MAIN,
    })


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_hierarchy_registering_its_classes_is_not_copied_and_the_synchronous_router_still_writes(
    cli, service, shape, kind
):
    root = _tree(service, shape)
    assert serve(root, kind, RUN) == EXPECTED
    document = apply_objects(cli, root)
    found = handler(document, "list_items")
    assert found["action"] == "blocked", found
    assert any(
        "AM253" == code and SHAPES[shape][2] in reason and "would run again for the parallel async classes" in reason
        for code, reason in zip(found["codes"], found["reasons"])
    ), found
    assert "ItemRepositoryAsync" not in read(root, "repositories.py")
    assert serve(root, kind, RUN) == EXPECTED


def test_near_miss_a_hierarchy_registering_nothing_is_copied_and_both_routers_run(cli, service):
    root = service({
        "repositories.py": REPOSITORIES.replace("HOOK", "").replace("DECORATOR", "").replace("KEYWORD", "")
        + "\n\nREGISTRY[Item] = ItemRepository\n",
        "deps.py": DEPS, SUBSYSTEM: routes(ROUTES), "api/admin.py": ADMIN, "main.py": MAIN,
    })
    document = apply_objects(cli, root)
    assert handler(document, "list_items")["action"] == "migrate", handler(document, "list_items")
    assert "class ItemRepositoryAsync(RepositoryAsync[Item]):" in read(root, "repositories.py")
    assert serve(root, "sqlite", RUN) == EXPECTED
