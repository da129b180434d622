"""Phase two through the Session a class holds, read from outside it (`self.repo.session`),
proved by running.

A service reaching past its repository for the repository's Session (`db = self.repo.session`,
then `Item.by_name(db, name)`) works on an AsyncSession once the repository moves: every call
it makes with that Session must be awaited, or the route breaks (`'coroutine' object has no
attribute 'first'`). The tool does not follow the Session out of its holder: the route is
blocked, naming the read, and `check` reports the migrated code doing so.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects
from test_phase2_rules import handler
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

SERVICES = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Item


def count_named(db: Session, name: str) -> int:
    return db.scalar(select(func.count(Item.id)).where(Item.name == name))


class ItemRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, item: Item) -> Item:
        self.session.add(item)
        self.session.commit()
        return item


class ItemService:
    def __init__(self, repo: ItemRepository) -> None:
        self.repo = repo

    def create(self, name: str) -> int:
        db = self.repo.session
        if count_named(db, name):
            raise ValueError(name)
        return self.repo.add(Item(name=name, owner_id=1)).id
"""
ROUTES = """
from services import ItemRepository, ItemService


def get_service(db: Session = Depends(get_db_session)) -> ItemService:
    return ItemService(ItemRepository(db))


@router.post("/items")
def add_item(name: str, service: ItemService = Depends(get_service)):
    return {"id": service.create(name)}
"""


def test_a_service_reading_its_repositorys_session_blocks_the_route(cli, service):
    root = service({"services.py": SERVICES, SUBSYSTEM: routes(ROUTES)})
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    document = apply_objects(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked", found
    assert found["codes"] == ["AM229"], found
    assert (
        "services.py:26: reads the Session ItemRepository holds (`self.repo.session`) from outside the class"
    ) in found["reasons"][0], found
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before


NEAR = SERVICES.replace(
    "        db = self.repo.session\n        if count_named(db, name):",
    "        if self.repo.count_named(name):",
).replace(
    "    def add(self, item: Item) -> Item:",
    "    def count_named(self, name: str) -> int:\n        return count_named(self.session, name)\n\n"
    "    def add(self, item: Item) -> Item:",
)
CHECK = """
    first = client.post("/items", params={"name": "a"}).json()
    again = client.post("/items", params={"name": "b"}).json()
    with Sync() as s:
        rows = list(s.scalars(select(Item.name).order_by(Item.id)))
    print(json.dumps({"first": first, "again": again, "rows": rows}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_the_repository_doing_that_work_itself_moves_and_writes(cli, service, kind):
    root = service({"services.py": NEAR, SUBSYSTEM: routes(ROUTES)})
    document = apply_objects(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "migrate", found
    assert serve(root, kind, CHECK) == {"first": {"id": 1}, "again": {"id": 2}, "rows": ["a", "b"]}
