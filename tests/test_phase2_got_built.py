"""Phase two and a `get()` handing back an object the route built, RUN on three databases.

`Session.get()` returns the object the Session holds already without running a query, so none
of the loaders its class declares eager (`lazy="selectin"`) runs on it. A route that builds an
item, flushes it, commits and returns `db.get(Item, item_id)` (or reads `.owner` on it) had
`Item.owner` credited to that declaration: on the synchronous Session the serialisation loaded
it lazily; migrated (expire_on_commit=False), it raised MissingGreenlet. The traced `get()` now
becomes a `select()` carrying `selectinload(Item.owner)`, which loads it on the held object too;
a generic repository's `self.session.get(self.model, id)`, which no option can be added to,
blocks the route (AM222) naming why. Near misses: the same `get()`s in routes that build
nothing, or build only objects of a class declaring nothing eager that the response reads (a
`User`), migrate as before, the `get()` left as written.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import ENGINE, KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models("""
    owner = relationship(User, lazy="selectin")
""", orm="relationship")
SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner: UserOut
"""
REPOSITORY = """
from typing import Generic, Optional, Type, TypeVar

from sqlalchemy.orm import Session

from models import Base, Item

ModelT = TypeVar("ModelT", bound=Base)


class Repository(Generic[ModelT]):
    model: Type[ModelT]

    def __init__(self, session: Session):
        self.session = session

    def get(self, id: int) -> Optional[ModelT]:
        return self.session.get(self.model, id)

    def add(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        self.session.flush()
        return obj


class ItemRepository(Repository[Item]):
    model = Item
"""
ROUTES = """
@router.post("/items", response_model=ItemOut)
def create(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.flush()
    item_id = item.id
    db.commit()
    return db.get(Item, item_id)
""", """
@router.post("/repo/items", response_model=ItemOut)
def create_in_repo(name: str, db: session_dependency):
    repo = ItemRepository(db)
    item_id = repo.add(Item(name=name, owner_id=1)).id
    db.commit()
    return repo.get(item_id)
""", """
@router.post("/owners")
def create_for_owner(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.flush()
    item_id = item.id
    db.commit()
    got = db.get(Item, item_id)
    return {"owner": got.owner.name}
""", """
@router.post("/users", response_model=ItemOut)
def add_user(name: str, db: session_dependency):
    db.add(User(id=3, name=name))
    db.commit()
    return ItemRepository(db).get(1)
""", """
@router.get("/items/{item_id}", response_model=ItemOut)
def show(item_id: int, db: session_dependency):
    return db.get(Item, item_id)
""", """
@router.get("/repo/items/{item_id}", response_model=ItemOut)
def show_in_repo(item_id: int, db: session_dependency):
    return ItemRepository(db).get(item_id)
"""
IMPORTS = "from repository import ItemRepository\nfrom schemas import ItemOut\n"
CALLS = """
    answers = [
        client.post("/items?name=pen").json(), client.post("/repo/items?name=ink").json(),
        client.post("/owners?name=nib").json(), client.post("/users?name=Cy").json(), client.get("/items/1").json(), client.get("/repo/items/2").json(),
    ]
    with Sync() as s:
        stored = [(i.name, i.owner_id) for i in s.scalars(select(Item).order_by(Item.id))]
    print(json.dumps([answers, stored]))
"""
ANN = {"id": 1, "name": "Ann"}
EXPECTED = [
    [{"name": "pen", "owner": ANN}, {"name": "ink", "owner": ANN}, {"owner": "Ann"}, {"name": "pen", "owner": ANN}, {"name": "pen", "owner": ANN},
     {"name": "ink", "owner": ANN}],
    [["pen", 1], ["ink", 1], ["nib", 1]],
]


@pytest.mark.parametrize("kind", KINDS)
def test_a_get_that_may_hand_back_the_built_object_loads_what_its_class_declares_eager(cli, service, kind):
    root = service({
        "db/engine.py": dedent(ENGINE).replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)"),
        "models.py": dedent(MODELS),
        "schemas.py": dedent(SCHEMAS),
        "repository.py": dedent(REPOSITORY),
        SUBSYSTEM: routes(*ROUTES).replace("router = APIRouter()", IMPORTS + "\n\nrouter = APIRouter()"),
    })
    assert serve(root, kind, CALLS) == EXPECTED  # the synchronous routes
    document = apply(cli, root)
    for name in ("create", "create_for_owner", "add_user", "show", "show_in_repo"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    blocked = handler(document, "create_in_repo")
    assert blocked["action"] == "blocked" and "AM222" in blocked["codes"], blocked
    assert any(
        "Repository.get() hands back from `get()`, and the route's code builds Item objects" in reason
        and "loads on first read" in reason for reason in blocked["reasons"]
    ), blocked
    text = (root / SUBSYSTEM).read_text(encoding="utf-8")
    create, show = text.split("def create(")[1].split("def show(")
    assert create.count("select(Item).where(Item.id == item_id).options(selectinload(Item.owner))") == 2, text
    # near misses: nothing built, the get() stays as written
    assert "    return await db.get(Item, item_id)\n" in show and "selectinload" not in show, text
    assert serve(root, kind, CALLS) == EXPECTED
