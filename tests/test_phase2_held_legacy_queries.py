"""Phase two and legacy Query chains on a Session a class holds (`self.db.query(Item)...`).

The same chains on a route's Session parameter become 2.0 `select()` statements; on the
Session of a class-based view (`@cbv`, `db: Session = Depends(...)`) or of a repository built
per request they blocked every route of the class ("AsyncSession does not have (a legacy
Query)"). They are now rewritten in place, awaited on `self.db`, and RUN on SQLite,
PostgreSQL and MariaDB: what the routes answer and what they wrote is read back. A chain
that does not map (kept in a name and run later, a method no `select()` has) still blocks
the class, naming the chain and why; a relationship read on objects such a chain loads is
eager-loaded or blocks, never left to load lazily on the event loop.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, handler, read, run
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

VIEWS = """
from fastapi import HTTPException
from fastapi_utils.cbv import cbv


@cbv(router)
class ItemViews:
    db: Session = Depends(get_db_session)

    @router.get("/items")
    async def list_items(self, owner_id: int = 1):
        return [i.name for i in self.db.query(Item).filter(Item.owner_id == owner_id).order_by(Item.id).all()]

    @router.get("/items/pairs")
    async def pairs(self):
        rows = self.db.query(Item.name, Item.owner_id).order_by(Item.name).all()
        return [[name, owner] for name, owner in rows]

    @router.get("/items/count")
    async def count_items(self):
        return {"count": self.db.query(func.count(Item.id)).scalar()}

    @router.get("/items/{item_id}")
    async def read_item(self, item_id: int):
        item = self.db.query(Item).get(item_id)
        if item is None:
            raise HTTPException(404)
        return {"name": item.name}

    @router.post("/items")
    async def create_item(self, name: str):
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return {"id": item.id}

    @router.patch("/items/{item_id}")
    async def rename(self, item_id: int, name: str):
        changed = self.db.query(Item).filter(Item.id == item_id).update({Item.name: name}, synchronize_session=False)
        self.db.commit()
        return {"changed": changed}

    @router.delete("/items/{item_id}")
    async def delete_item(self, item_id: int):
        deleted = self.db.query(Item).filter_by(id=item_id).delete()
        self.db.commit()
        return {"deleted": deleted}
"""
VIEW_RUN = """
ids = [client.post("/items", params={"name": name}).json()["id"] for name in ("pen", "ink", "cap")]
answers = [
    client.get("/items").json(), client.get("/items/pairs").json(), client.get("/items/count").json(),
    client.get(f"/items/{ids[1]}").json(), client.get("/items/999").status_code,
    client.patch(f"/items/{ids[0]}", params={"name": "quill"}).json(),
    client.delete(f"/items/{ids[2]}").json(), client.delete(f"/items/{ids[2]}").json(),
]
with Sync() as s:
    stored = list(s.scalars(select(Item.name).order_by(Item.id)))
print(json.dumps([answers, stored]))
"""
VIEW_EXPECTED = [
    [
        ["pen", "ink", "cap"], [["cap", 1], ["ink", 1], ["pen", 1]], {"count": 3}, {"name": "ink"}, 404,
        {"changed": 1}, {"deleted": 1}, {"deleted": 0},
    ],
    ["quill", "ink"],
]
VIEW_ROUTES = ("list_items", "pairs", "count_items", "read_item", "create_item", "rename", "delete_item")


@pytest.mark.parametrize("kind", KINDS)
def test_legacy_chains_on_a_class_based_views_session_migrate_and_run(cli, service, kind):
    root = service({SUBSYSTEM: routes(VIEWS)})
    assert serve(root, kind, VIEW_RUN) == VIEW_EXPECTED
    document = apply(cli, root)
    for name in VIEW_ROUTES:
        found = handler(document, f"ItemViews.{name}")
        assert found["action"] == "migrate", found
    text = read(root, SUBSYSTEM)
    assert ".query(" not in text, text
    assert "await self.db.scalars(select(Item).where(Item.owner_id == owner_id).order_by(Item.id))" in text
    assert "(await self.db.get(Item, item_id))" in text
    assert serve(root, kind, VIEW_RUN) == VIEW_EXPECTED
    assert run(cli, root)["files_changed"] == []  # nothing left to change


MODELS = user_item_models('owner: Mapped[User] = relationship(back_populates="items")', user='items: Mapped[list["Item"]] = relationship(back_populates="owner", order_by="Item.id")')
REPOSITORY = """
from sqlalchemy.orm import Session

from models import Item


class ItemRepository:
    def __init__(self, session: Session):
        self.session = session

    def names(self) -> list[str]:
        return [item.name for item in self.session.query(Item).order_by(Item.id)]

    def listed(self) -> list[Item]:
        return self.session.query(Item).order_by(Item.id).all()

    def add(self, name: str) -> None:
        self.session.add(Item(name=name, owner_id=2))
        self.session.commit()
"""
REPOSITORY_ROUTES = """
def get_repo(db: Session = Depends(get_db_session)) -> ItemRepository:
    return ItemRepository(db)


@router.post("/items")
def add(name: str, repo: ItemRepository = Depends(get_repo)):
    repo.add(name)
    return {"names": repo.names()}


@router.get("/owners")
def owners(repo: ItemRepository = Depends(get_repo)):
    return [item.owner.name for item in repo.listed()]


class OwnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner: OwnerOut


@router.get("/listed", response_model=list[ItemOut])
def listed(repo: ItemRepository = Depends(get_repo)):
    return repo.listed()
"""
REPOSITORY_RUN = """
with Sync() as s:
    s.add(Item(name="pen", owner_id=1))
    s.commit()
answers = [client.post("/items", params={"name": "ink"}).json(), client.get("/owners").json()]
answers.append(client.get("/listed").json())
with Sync() as s:
    stored = list(s.scalars(select(Item.name).order_by(Item.id)))
print(json.dumps([answers, stored]))
"""
REPOSITORY_EXPECTED = [
    [{"names": ["pen", "ink"]}, ["Ann", "Bob"], [{"name": "pen", "owner": {"name": "Ann"}}, {"name": "ink", "owner": {"name": "Bob"}}]],
    ["pen", "ink"],
]


@pytest.mark.parametrize("kind", KINDS)
def test_legacy_chains_on_a_repositorys_session_migrate_and_lazy_reads_do_not_run_on_the_loop(cli, service, kind):
    head = "from pydantic import BaseModel, ConfigDict\n\nfrom repository import ItemRepository\n"
    root = service({"models.py": MODELS, "repository.py": REPOSITORY, SUBSYSTEM: routes(head + REPOSITORY_ROUTES)})
    assert serve(root, kind, REPOSITORY_RUN) == REPOSITORY_EXPECTED
    document = apply(cli, root)
    assert handler(document, "add")["action"] == "migrate", handler(document, "add")
    assert "await self.session.scalars(select(Item).order_by(Item.id))" in read(root, "repository.py")
    # `item.owner` read on what the chain loads: loaded eagerly where the route moves, or the route
    # stays, naming the relationship; never a lazy load on the event loop (MissingGreenlet)
    for name in ("owners", "listed"):
        found = handler(document, name)
        if found["action"] == "migrate":
            assert "selectinload(Item.owner)" in read(root, "repository.py") or "joinedload(Item.owner)" in read(
                root, "repository.py"
            )
        else:
            assert any("Item.owner" in reason for reason in found["reasons"]), found
    assert serve(root, kind, REPOSITORY_RUN) == REPOSITORY_EXPECTED


UNMAPPED = """
from fastapi_utils.cbv import cbv


@cbv(router)
class ItemViews:
    db: Session = Depends(get_db_session)

    @router.get("/items")
    async def list_items(self):
        return [i.name for i in self.db.query(Item).order_by(Item.id).all()]

    @router.get("/items/kept")
    async def kept(self):
        query = self.db.query(Item)
        return [i.name for i in query.order_by(Item.id).all()]

    @router.get("/items/streamed")
    async def streamed(self):
        return [i.name for i in self.db.query(Item).order_by(Item.id).yield_per(10)]
"""


def test_a_legacy_chain_on_a_held_session_that_does_not_map_blocks_the_class_naming_it(cli, service):
    root = service({SUBSYSTEM: routes(UNMAPPED)})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "ItemViews.kept")
    assert found["action"] == "blocked", found
    assert any(
        "ItemViews.kept runs the legacy Query `self.db.query(Item)`" in r and "the Query object itself is used" in r
        for r in found["reasons"]
    ), found
    found = handler(document, "ItemViews.streamed")
    assert found["action"] == "blocked", found
    assert any("self.db.query(Item).order_by(Item.id).yield_per(10)" in r for r in found["reasons"]), found
    # one class, one kind of Session: the route whose own chain maps stays with it, and says so
    # first, naming the methods that block the class instead of repeating their reasons
    found = handler(document, "ItemViews.list_items")
    assert found["action"] == "blocked", found
    assert found["reasons"] == [
        "api/items.py:20: the route is a method of ItemViews, whose methods kept, streamed block the class (it holds "
        "the Session on its instances and moves as a whole, so a blocker in any of its methods blocks every route "
        "using it); its reasons are listed at api.items.ItemViews.kept, api.items.ItemViews.streamed"
    ], found
    assert read(root, SUBSYSTEM) == before


QUERY_CLASS_VIEWS = """
from fastapi import HTTPException
from fastapi_utils.cbv import cbv


@cbv(router)
class ItemViews:
    db: Session = Depends(get_db_session)

    @router.post("/items")
    async def create_item(self, name: str):
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return {"id": item.id}

    @router.get("/items/{item_id}")
    async def read_item(self, item_id: int):
        item = self.db.query(Item).get(item_id)
        if item is None:
            raise HTTPException(status_code=404)
        return {"name": item.name}
"""
QUERY_CLASS_RUN = """
pen = client.post("/items", params={"name": "pen"}).json()["id"]
gone = client.post("/items", params={"name": "~gone"}).json()["id"]
print(json.dumps([client.get(f"/items/{pen}").status_code, client.get(f"/items/{gone}").status_code]))
"""


def test_a_held_chain_reaching_an_override_of_the_query_class_blocks(cli, service):
    # `LiveQuery.get()` hides softly deleted rows: as a `select()` on an AsyncSession it would not.
    from test_phase2_query_class import ENGINE

    root = service({"db/engine.py": ENGINE, SUBSYSTEM: routes(QUERY_CLASS_VIEWS)})
    before = read(root, SUBSYSTEM)
    document = apply(cli, root)
    found = handler(document, "ItemViews.read_item")
    reasons = " ".join(found["reasons"])
    assert found["action"] == "blocked", found
    assert "query_cls=LiveQuery" in reasons and "overrides Query's `get` (db/engine.py:11)" in reasons, reasons
    assert handler(document, "ItemViews.create_item")["action"] == "blocked"
    assert read(root, SUBSYSTEM) == before
    assert serve(root, "sqlite", QUERY_CLASS_RUN) == [200, 404]
