"""A generic CRUD object's results, typed by how the object is built, proved by running.

The full-stack template's `CRUDBase(Generic[ModelType])` returns `Optional[ModelType]`; which
model that is, the constructor argument says (`CRUDBase(Item)`, `model: Type[ModelType]`), or
an attribute the class declares `type[M]` that an unannotated parameter is stored into, bound
on through a subclass's own TypeVar (`NamedRepository(Repository[N])`). Unbound, formatting the
result may run any model's `__str__`, so one model reading a relationship there (`User`) blocked
every route formatting another (AM250, "the class of `obj` is unknown"); a plain column read
in a model's own `__str__` (`self.name`) blocked the same way. Typed, the routes of `Item`,
whose `__str__` reads columns only, migrate and still write and read the rows on every database.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, handler
from test_phase2_soundness import KINDS, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models(
    user="""
    items: Mapped[list["Item"]] = relationship(viewonly=True)

    def __str__(self) -> str:
        return f"{self.name} ({len(self.items)} items)"
    """,
    item="""
    def __str__(self) -> str:
        return f"Item {self.name}"
    """,
    orm="relationship",
)
CRUD = """
from typing import Any, Generic, List, Optional, Type, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Base

ModelType = TypeVar("ModelType", bound=Base)
M = TypeVar("M", bound=Base)
N = TypeVar("N", bound=Base)


class CRUDBase(Generic[ModelType]):
    def __init__(self, model: Type[ModelType]):
        self.model = model

    def get(self, db: Session, id: Any) -> Optional[ModelType]:
        return db.query(self.model).filter(self.model.id == id).first()

    def get_multi(self, db: Session) -> List[ModelType]:
        return db.query(self.model).order_by(self.model.id).all()

    def create(self, db: Session, **values: Any) -> ModelType:
        db_obj = self.model(**values)
        db.add(db_obj)
        db.commit()
        db.refresh(db_obj)
        return db_obj


class Repository(Generic[M]):
    entity: type[M]

    def __init__(self, entity):
        self.entity = entity

    def first(self, db: Session) -> M | None:
        return db.scalars(select(self.entity).order_by(self.entity.id)).first()


class NamedRepository(Repository[N]):
    def named(self, db: Session, name: str) -> N | None:
        return db.scalars(select(self.entity).where(self.entity.name == name)).first()


def model_for(kind: str) -> Any:
    from models import Item, User

    return {"user": User, "item": Item}[kind]
"""
INSTANCES = """
from crud.base import CRUDBase, NamedRepository, model_for
from models import Item

item = CRUDBase(Item)
named_items = NamedRepository(Item)
{guessed}
"""
ROUTES = """
from crud import items as crud_items
from crud.base import CRUDBase
from crud.items import named_items


def get_repo() -> CRUDBase:
    return CRUDBase(model=Item)


@router.post("/items")
def create_item(name: str, db: Session = Depends(get_db_session)):
    obj = crud_items.item.create(db, name=name, owner_id=1)
    return {"id": obj.id, "label": str(obj)}


@router.get("/items/{item_id}")
def read_item(item_id: int, db: Session = Depends(get_db_session)):
    obj = crud_items.item.get(db, item_id)
    return {"label": f"{obj}"}


@router.get("/items")
def list_items(db: Session = Depends(get_db_session)):
    return [str(i) for i in crud_items.item.get_multi(db)]


@router.get("/repo/{item_id}")
def read_by_repo(item_id: int, db: Session = Depends(get_db_session), repo: CRUDBase = Depends(get_repo)):
    obj = repo.get(db, item_id)
    return {"label": str(obj)}


@router.get("/local/{item_id}")
def read_local(item_id: int, db: Session = Depends(get_db_session)):
    items = CRUDBase(Item)
    obj = items.get(db, item_id)
    return {"label": str(obj)}


@router.get("/inline/{item_id}")
def read_inline(item_id: int, db: Session = Depends(get_db_session)):
    obj = CRUDBase(Item).get(db, item_id)
    return {"label": str(obj)}


@router.get("/first")
def first_item(db: Session = Depends(get_db_session)):
    return {"first": str(named_items.first(db)), "named": str(named_items.named(db, "cup"))}
"""
MIGRATED = ("create_item", "read_item", "list_items", "read_by_repo", "read_local", "read_inline", "first_item")
SCRIPT = """
    created = [client.post("/items", params={"name": n}).json() for n in ("pen", "cup")]
    read = client.get(f"/items/{created[1]['id']}").json()
    listed = client.get("/items").json()
    repo = client.get(f"/repo/{created[0]['id']}").json()
    local = client.get(f"/local/{created[1]['id']}").json()
    inline = client.get(f"/inline/{created[0]['id']}").json()
    first = client.get("/first").json()
    with Sync() as s:
        names = sorted(s.scalars(select(Item.name)).all())
    print(json.dumps({
        "labels": [c["label"] for c in created], "read": read, "listed": listed, "repo": repo, "local": local,
        "inline": inline, "first": first, "names": names,
    }))
"""
EXPECTED = {
    "labels": ["Item pen", "Item cup"], "read": {"label": "Item cup"}, "listed": ["Item pen", "Item cup"],
    "repo": {"label": "Item pen"}, "local": {"label": "Item cup"},
    "inline": {"label": "Item pen"}, "first": {"first": "Item pen", "named": "Item cup"},
    "names": ["cup", "pen"],
}


def _service(service, guessed: str = "", routes_text: str = ""):  # type: ignore[no-untyped-def]
    return service({
        "models.py": MODELS,
        "crud/__init__.py": "",
        "crud/base.py": CRUD,
        "crud/items.py": INSTANCES.replace("{guessed}", guessed),
        "api/items.py": routes(ROUTES + routes_text),
    })


@pytest.mark.parametrize("kind", KINDS)
def test_the_model_a_crud_object_is_built_with_types_its_results_and_the_routes_run(cli, service, kind):
    root = _service(service)
    assert serve(root, kind, SCRIPT) == EXPECTED
    document = apply(cli, root)
    for route in MIGRATED:
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    migrated = (root / "api/items.py").read_text()
    assert "obj = await crud_items.item.create(db, name=name, owner_id=1)" in migrated, migrated
    assert serve(root, kind, SCRIPT) == EXPECTED


def test_a_model_known_to_read_a_relationship_in_its_str_still_blocks_naming_only_it(cli, service):
    # typed, the read is no guess among every model's `__str__`: User's alone, which does load
    root = _service(service, "from models import User\n\nusers = CRUDBase(User)", """
@router.get("/users/{user_id}")
def read_user(user_id: int, db: Session = Depends(get_db_session)):
    from crud.items import users

    return {"label": str(users.get(db, user_id))}
""")
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    blocked = handler(document, "read_user")
    reasons = " ".join(blocked["reasons"])
    assert blocked["action"] == "blocked" and "AM250" in blocked["codes"], blocked
    assert "runs __str__ User.__str__" in reasons and "the class of" not in reasons, reasons
    assert "the object comes from `users.get` (CRUDBase.get), whose query serves every model" in reasons, reasons
    assert handler(document, "read_item")["action"] == "migrate"


def test_near_miss_a_model_the_tool_cannot_resolve_still_blocks_saying_which_argument(cli, service):
    root = _service(service, 'guessed = CRUDBase(model_for("item"))', """
@router.get("/guessed/{item_id}")
def read_guessed(item_id: int, db: Session = Depends(get_db_session)):
    from crud.items import guessed

    obj = guessed.get(db, item_id)
    return {"label": str(obj)}
""")
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    blocked = handler(document, "read_guessed")
    reasons = " ".join(blocked["reasons"])
    assert blocked["action"] == "blocked" and "AM250" in blocked["codes"], blocked
    assert (
        "the class of `obj` is unknown: `guessed.get` returns `CRUDBase`'s `ModelType`, which `guessed` takes from "
        '`model_for("item")`, its argument for `model` (crud/items.py:6), a value the tool cannot resolve to a '
        "mapped class"
    ) in reasons, reasons
    assert handler(document, "read_item")["action"] == "migrate"


def test_near_miss_an_object_built_in_the_calling_expression_unresolved_names_its_construction(cli, service):
    # `CRUDBase(...).get(...)`: the reason names the construction, not a receiver it has no name for
    root = _service(service, "", """
@router.get("/built/{item_id}")
def read_built(item_id: int, db: Session = Depends(get_db_session)):
    from crud.base import model_for

    obj = CRUDBase(model_for("item")).get(db, item_id)
    return {"label": str(obj)}
""")
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    blocked = handler(document, "read_built")
    reasons = " ".join(blocked["reasons"])
    assert blocked["action"] == "blocked" and "AM250" in blocked["codes"], blocked
    assert "`CRUDBase(...).get` returns `CRUDBase`'s `ModelType`, which `CRUDBase(...)` takes from" in reasons, reasons
    assert "`the object" not in reasons and ".None`" not in reasons, reasons


def test_near_miss_an_object_reached_through_an_attribute_unresolved_names_its_path(cli, service):
    # `holder.items.get(...)`, `items` set outside `__init__`: the reason names that path, not
    # "the object", which the reader cannot find in the route
    root = _service(service, "", """
class Holder:
    def open(self) -> "Holder":
        self.items = CRUDBase(Item)
        return self


@router.get("/held/{item_id}")
def read_held(item_id: int, db: Session = Depends(get_db_session)):
    holder = Holder().open()
    obj = holder.items.get(db, item_id)
    return {"label": str(obj)}
""")
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    blocked = handler(document, "read_held")
    reasons = " ".join(blocked["reasons"])
    assert blocked["action"] == "blocked", blocked
    assert "`holder.items.get` returns `CRUDBase`'s `ModelType`, and the tool does not see how `holder.items` is built" in (
        reasons
    ), reasons
    assert "`the object" not in reasons, reasons
