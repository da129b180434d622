"""The follow-up for a test override of a dependency that got an async twin said to copy the
stand-in over (`app.dependency_overrides[get_user_db_async] = app.dependency_overrides[get_user_db]`)
also when that stand-in yields an object holding the synchronous Session (a fastapi-users
`SQLAlchemyUserDatabase(session)`): the migrated code awaits its methods, and following the advice
failed every such request with "object User can't be used in 'await' expression" (found by a
new-user trial). Such a follow-up now names the parallel async class the twin needs instead.
Near miss: a stand-in for a dependency whose value holds no Session (an id, a user) is still
copied over as before."""

from __future__ import annotations

from test_phase2_mixed_routes import SUBSYSTEM, SYNC_ENGINE, routes, service  # noqa: F401
from test_phase2_rules import handler, run

HEAD = """
from collections.abc import Iterator

from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item, User

router = APIRouter()
"""
CHAIN = """
class ItemStore:
    def __init__(self, db: Session):
        self.db = db

    def add(self, name: str, owner_id: int) -> None:
        self.db.add(Item(name=name, owner_id=owner_id))
        self.db.commit()


def get_store(db: Session = Depends(get_db_session)) -> Iterator[ItemStore]:
    yield ItemStore(db)


def get_owner(db: Session = Depends(get_db_session)) -> int:
    return db.scalar(select(func.min(User.id)))
"""
ROUTE = """
@router.post("/items")
def add_item(name: str, store: ItemStore = Depends(get_store), owner: int = Depends(get_owner)):
    store.add(name, owner)
    return {"name": name}
"""
CONFTEST = """
import pytest
from fastapi.testclient import TestClient

from api.items import ItemStore, get_owner, get_store
from db.engine import database_sessionmaker, get_db_session
from main import app


@pytest.fixture
def client():
    session = database_sessionmaker()

    def override_db():
        yield session

    def override_store():
        yield ItemStore(session)

    app.dependency_overrides[get_db_session] = override_db
    app.dependency_overrides[get_store] = override_store
    app.dependency_overrides[get_owner] = lambda: 1
    yield TestClient(app)
    app.dependency_overrides.clear()
"""


def test_a_stand_in_holding_the_synchronous_session_is_not_copied_to_the_twin(cli, service):  # noqa: F811
    root = service({
        "db/engine.py": SYNC_ENGINE,
        "core/deps.py": "",
        "tests/__init__.py": "",
        "tests/conftest.py": CONFTEST,
        SUBSYSTEM: routes(CHAIN, ROUTE, head=HEAD),
    })
    document = run(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    notes = document["subsystem"]["follow_ups"]
    (store,) = [n for n in notes if "overrides `get_store`" in n]
    assert "with the same stand-in" not in store, store
    assert "Its stand-in hands them a `ItemStore`, on the synchronous Session" in store, store
    assert "override `get_store_async` with one yielding a `ItemStoreAsync`" in store, store
    # near miss: an id holds no Session, and the same stand-in serves the twin
    (owner,) = [n for n in notes if "overrides `get_owner`" in n]
    assert "Override `get_owner_async` as well, with the same stand-in" in owner, owner
