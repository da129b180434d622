"""Phase two's soundness: an eager-load option it writes naming a relationship a backref adds
(`selectinload(User.items)`, `items` created by Item's `backref=`) works on the first request of
a fresh process.

That attribute exists on User only once SQLAlchemy configures the mappers, which building a
`select()` does not do: a migrated route whose query is the process's first ORM work raised
AttributeError (a 500). The generated async session dependency configures them before it
yields. A relationship declared on both sides (`back_populates`) exists from the start: the
dependency stays as it was. The routes are RUN, each as the very first request of the process.
"""

from __future__ import annotations

import pytest
from phase2_kit import KINDS, run_app
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import routes, service

__all__ = ["service"]  # the fixture, used by name

BACKREF = user_item_models('owner = relationship("User", backref="items")')
POPULATES = user_item_models(
    'owner: Mapped["User"] = relationship(back_populates="items")',
    user='items: Mapped[list["Item"]] = relationship(back_populates="owner")',
)
ROUTE = """
@router.get("/users/{user_id}/items")
def user_items(user_id: int, db: session_dependency):
    user = db.scalars(select(User).where(User.id == user_id)).one()
    return {"name": user.name, "items": sorted(item.name for item in user.items)}
"""
# Rows written without the ORM, so that the route is the process's first ORM work.
FIRST_REQUEST = """
import json

from fastapi.testclient import TestClient

import db.engine as stack
from db.engine import engine
from main import app
from models import Base

Base.metadata.drop_all(engine)
Base.metadata.create_all(engine)
users, items = Base.metadata.tables["users"], Base.metadata.tables["items"]
with engine.begin() as connection:
    connection.execute(users.insert(), [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}])
    connection.execute(items.insert(), [
        {"id": 1, "name": "pen", "owner_id": 1}, {"id": 2, "name": "cup", "owner_id": 1},
        {"id": 3, "name": "hat", "owner_id": 2},
    ])
with TestClient(app) as client:
    try:
        response = client.get("/users/1/items")
        answer = [response.status_code, response.json()]
    except Exception as error:  # the route's own error, not a bare 500
        answer = [500, f"{type(error).__name__}: {error}"]
    if hasattr(stack, "async_engine"):
        client.portal.call(stack.async_engine.dispose)
Base.metadata.drop_all(engine)
engine.dispose()
print(json.dumps(answer))
"""
EXPECTED = [200, {"name": "Ann", "items": ["cup", "pen"]}]


def _first_request(root, kind):  # type: ignore[no-untyped-def]
    return run_app(root, kind, dedent(FIRST_REQUEST))


@pytest.mark.parametrize("kind", KINDS)
def test_an_option_naming_a_backref_works_on_the_first_request_of_a_process(cli, service, kind):
    root = service({"models.py": dedent(BACKREF), "api/items.py": routes(ROUTE)})
    assert _first_request(root, kind) == EXPECTED  # the synchronous route
    document = apply(cli, root)
    assert handler(document, "user_items")["action"] == "migrate", handler(document, "user_items")
    assert "selectinload(User.items)" in read(root, "api/items.py")
    assert _first_request(root, kind) == EXPECTED
    engine = read(root, "db/engine.py")
    assert "configure_mappers()" in engine and "from sqlalchemy.orm import Session, configure_mappers" in engine


@pytest.mark.parametrize("kind", KINDS)
def test_an_option_naming_a_relationship_both_classes_declare_configures_nothing(cli, service, kind):
    root = service({"models.py": dedent(POPULATES), "api/items.py": routes(ROUTE)})
    document = apply(cli, root)
    assert handler(document, "user_items")["action"] == "migrate", handler(document, "user_items")
    assert "selectinload(User.items)" in read(root, "api/items.py")
    assert "configure_mappers" not in read(root, "db/engine.py")
    assert not any("configure_mappers" in note for note in document["subsystem"]["follow_ups"])
    assert _first_request(root, kind) == EXPECTED
