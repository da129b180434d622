"""Phase two's soundness: an object the route builds and a project method adds, its relationship declared eager.

`item = ItemRepository(db).add(Item(...)); db.commit(); return item` under a response model
reading `Item.owner` declared `lazy="selectin"` (`"joined"`, `"subquery"`, `"immediate"`): those
strategies load the relationship with a query of `Item`, and no query loaded this object, so the
migrated route's serialisation would load it on first read and raise MissingGreenlet (a 500).
Such a route blocks naming the method that hands the object back, as it does for the default
lazy strategy; one returning what a function builds, adds and commits gets a refresh naming the
relationship in that function; a route returning what a method loads with a query migrates.
The routes are RUN before and after the migration on each database and answer the same, with
the relationship's data, and the rows written.
"""

from __future__ import annotations

import pytest
from phase2_kit import KINDS
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import routes, serve, service

__all__ = ["service"]  # the fixture, used by name

STRATEGIES = ["selectin", "joined", "subquery", "immediate"]
MODELS = user_item_models('owner: Mapped[User] = relationship(lazy="STRATEGY")')
SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class OwnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner: OwnerOut
"""
ROUTES = ("""
from schemas import ItemOut


class ItemRepository:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, item: Item) -> Item:
        self.db.add(item)
        self.db.flush()
        return item

    def add_commit(self, item: Item) -> Item:
        self.db.add(item)
        self.db.commit()
        return item

    def all(self) -> list[Item]:
        return list(self.db.scalars(select(Item).order_by(Item.id)))
""", """
@router.post("/repo", response_model=ItemOut)
def via_repo(name: str, db: session_dependency):
    item = ItemRepository(db).add(Item(name=name, owner_id=1))
    db.commit()
    return item
""", """
@router.post("/direct", response_model=ItemOut)
def returned_as_is(name: str, db: session_dependency):
    return ItemRepository(db).add_commit(Item(name=name, owner_id=2))
""", """
@router.post("/read")
def read_in_route(name: str, db: session_dependency):
    item = ItemRepository(db).add(Item(name=name, owner_id=1))
    db.commit()
    return {"owner": item.owner.name}
""", """
def make_item(db: Session, name: str) -> Item:
    item = Item(name=name, owner_id=2)
    db.add(item)
    db.commit()
    return item


@router.post("/made", response_model=ItemOut)
def made(name: str, db: session_dependency):
    return make_item(db, name)
""", """
@router.get("/all", response_model=list[ItemOut])
def listed(db: session_dependency):
    return ItemRepository(db).all()
""")
CALLS = """
def call(method, url):
    try:
        answer = getattr(client, method)(url)
    except Exception as error:  # the server's own exception, re-raised by the TestClient
        return [type(error).__name__, str(error)[:300]]
    return [answer.status_code, answer.json()]


answers = [call("post", "/repo?name=a"), call("post", "/direct?name=b"), call("post", "/read?name=c"),
           call("post", "/made?name=d"), call("get", "/all")]
with Sync() as s:
    written = [(i.name, i.owner_id) for i in s.scalars(select(Item).order_by(Item.id))]
print(json.dumps([answers, written]))
"""
ANN = {"id": 1, "name": "Ann"}
BOB = {"id": 2, "name": "Bob"}
EXPECTED = [
    [
        [200, {"name": "a", "owner": ANN}],
        [200, {"name": "b", "owner": BOB}],
        [200, {"owner": "Ann"}],
        [200, {"name": "d", "owner": BOB}],
        [200, [{"name": "a", "owner": ANN}, {"name": "b", "owner": BOB}, {"name": "c", "owner": ANN},
               {"name": "d", "owner": BOB}]],
    ],
    [["a", 1], ["b", 2], ["c", 1], ["d", 2]],
]
BLOCKED = {
    "via_repo": "`item` is what api.items.ItemRepository.add() returns",
    "returned_as_is": "the object the route returns is what api.items.ItemRepository.add_commit() returns",
    "read_in_route": "ItemRepository",
}


def build(service, strategy: str):  # type: ignore[no-untyped-def]
    return service({
        "models.py": dedent(MODELS).replace("STRATEGY", strategy),
        "schemas.py": dedent(SCHEMAS),
        "api/items.py": routes(*ROUTES),
    })


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_built_object_a_method_adds_blocks_whatever_the_declared_strategy(cli, service, strategy):
    document = apply(cli, build(service, strategy))
    for name, why in BLOCKED.items():
        decision = handler(document, name)
        assert decision["action"] == "blocked", decision
        reason = " ".join(decision["reasons"])
        assert why in reason, reason
        assert "no query" in reason, reason
        assert "owner" in reason, reason
    via_repo = " ".join(handler(document, "via_repo")["reasons"])
    assert f'declared eager (lazy="{strategy}")' in via_repo, via_repo
    assert 'await session.refresh(item, attribute_names=["owner"])' in via_repo, via_repo
    # what a repository method loads with a query has the declared strategy's load
    assert handler(document, "listed")["action"] == "migrate", handler(document, "listed")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_routes_answer_with_the_relationship_after_the_migration(cli, service, kind, strategy):
    root = build(service, strategy)
    assert serve(root, kind, CALLS) == EXPECTED  # the synchronous routes
    document = apply(cli, root)
    assert handler(document, "listed")["action"] == "migrate", handler(document, "listed")
    # a function building the object it returns gets the refresh naming the relationship
    assert handler(document, "made")["action"] == "migrate", handler(document, "made")
    assert 'await db.refresh(item, attribute_names=["owner"])' in (root / "api" / "items.py").read_text()
    assert serve(root, kind, CALLS) == EXPECTED
