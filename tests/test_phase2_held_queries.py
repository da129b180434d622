"""Phase two and the objects a repository's method loads with a `select()` on the Session its
instance holds (`return self.session.scalars(select(Item).options(joinedload(Item.owner))).first()`):
the data flow stopped at that query, so every relationship read on them blocked the route with
a fix asking for the very option the query already has. The options written in that query
now credit the reads on its objects (a chained one by the path it follows): such routes migrate
(RUN on SQLite, PostgreSQL and MariaDB: the answers read the relationships and the renamed row
is written). A read no option of that query loads gets the option added there, as a helper's
own query does, the method moving with the route; `get(..., options=[...])` still blocks (an
object the Session holds already comes back whatever its options say)."""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, function, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models('owner: Mapped[User] = relationship(back_populates="items")', user='items: Mapped[list["Item"]] = relationship(back_populates="owner", order_by="Item.id")')
REPOSITORY = """
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import Item, User


class ItemRepository:
    def __init__(self, session: Session):
        self.session = session

    def with_owner(self, item_id: int) -> Item | None:
        return self.session.scalars(select(Item).where(Item.id == item_id).options(joinedload(Item.owner))).first()

    def plain(self, item_id: int) -> Item | None:
        return self.session.scalars(select(Item).where(Item.id == item_id)).first()

    def by_key(self, item_id: int) -> Item | None:
        return self.session.get(Item, item_id, options=[joinedload(Item.owner)])

    def owners(self) -> list[User]:
        rows = self.session.scalars(
            select(User).options(selectinload(User.items).joinedload(Item.owner)).order_by(User.id)
        ).all()
        return list(rows)

    def commit(self) -> None:
        self.session.commit()
"""
ROUTES = """
from pydantic import BaseModel, ConfigDict

from repository import ItemRepository


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class OwnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    items: list[ItemOut]


def get_repo(db: Session = Depends(get_db_session)) -> ItemRepository:
    return ItemRepository(db)


@router.put("/items/{item_id}")
def rename(item_id: int, name: str, repo: ItemRepository = Depends(get_repo)):
    item = repo.with_owner(item_id)
    item.name = name
    repo.commit()
    return {"name": item.name, "owner": item.owner.name}


@router.get("/owners", response_model=list[OwnerOut])
def owners(repo: ItemRepository = Depends(get_repo)):
    return repo.owners()


@router.get("/chained")
def chained(repo: ItemRepository = Depends(get_repo)):
    return [user.items[0].owner.name for user in repo.owners()]


@router.get("/plain/{item_id}")
def plain(item_id: int, repo: ItemRepository = Depends(get_repo)):
    return {"owner": repo.plain(item_id).owner.name}


@router.get("/keyed/{item_id}")
def keyed(item_id: int, repo: ItemRepository = Depends(get_repo)):
    return {"owner": repo.by_key(item_id).owner.name}
"""
RUN = """
with Sync() as s:
    s.add_all([Item(id=1, name="pen", owner_id=1), Item(id=2, name="ink", owner_id=2)])
    s.commit()
answers = [client.put("/items/1", params={"name": "quill"}).json()]
answers += [client.get(path).json() for path in ("/owners", "/chained", "/plain/2", "/keyed/2")]
with Sync() as s:
    stored = list(s.scalars(select(Item.name).order_by(Item.id)))
print(json.dumps([answers, stored]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_reads_the_options_of_a_held_sessions_query_load_migrate_and_run(cli, service, kind):
    root = service({"models.py": MODELS, "repository.py": REPOSITORY, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    for name in ("rename", "owners", "chained"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)["reasons"]
    assert "item = await repo.with_owner(item_id)" in function(root, SUBSYSTEM, "rename")
    # the method moves with the route: its query gets the option the read needs
    found = handler(document, "plain")
    assert found["action"] == "migrate", found
    assert any("adds the eager load of Item.owner to the query in repository.ItemRepository.plain" in r
               for r in found["reasons"]), found["reasons"]
    assert "select(Item).where(Item.id == item_id).options(selectinload(Item.owner))" in read(root, "repository.py")
    # `get(..., options=[...])` ignores its options for an object the Session holds: no option added there
    assert handler(document, "keyed")["action"] == "blocked"
    assert serve(root, kind, RUN) == [
        [
            {"name": "quill", "owner": "Ann"},
            [{"name": "Ann", "items": [{"name": "quill"}]}, {"name": "Bob", "items": [{"name": "ink"}]}],
            ["Ann", "Bob"], {"owner": "Bob"}, {"owner": "Bob"},
        ],
        ["quill", "ink"],
    ]
