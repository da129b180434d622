"""Phase two on a route reading the items of its request body by a name a relationship also has:
a pydantic item is no ORM object, so the route migrates, and is RUN with TestClient on aiosqlite
and PostgreSQL, writing every row."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, function
from test_phase2_soundness import KINDS, MODELS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

OWNED = MODELS.replace(
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship",
) + '    owner: Mapped[User] = relationship()\n'

BATCH = """
from pydantic import BaseModel


class ItemIn(BaseModel):
    name: str
    owner: str


@router.post("/items/batch")
def add_batch(batch: list[ItemIn], db: session_dependency):
    owners = {user.name: user.id for user in db.scalars(select(User))}
    for entry in batch:
        db.add(Item(name=entry.name, owner_id=owners[entry.owner]))
    db.commit()
    return {"owners": sorted({entry.owner for entry in batch})}
"""


@pytest.mark.parametrize("kind", KINDS[:2])
def test_items_of_the_request_body_named_like_a_relationship_migrate_and_the_rows_land(cli, service, kind):
    root = service({"models.py": dedent(OWNED), SUBSYSTEM: routes(BATCH)})
    document = apply(cli, root)
    assert {h["function"]: h["action"] for h in document["handlers"]} == {"add_batch": "migrate"}, document["handlers"]
    assert "async def add_batch(batch: list[ItemIn], db: async_session_dependency):" in function(
        root, SUBSYSTEM, "add_batch"
    )
    result = serve(root, kind, """
        answer = client.post("/items/batch", json=[{"name": "pen", "owner": "Ann"}, {"name": "cup", "owner": "Bob"}])
        with Sync() as s:
            rows = [[i.name, i.owner_id] for i in s.scalars(select(Item).order_by(Item.name))]
        print(json.dumps({"status": answer.status_code, "body": answer.json(), "rows": rows}))
    """)
    assert result == {"status": 200, "body": {"owners": ["Ann", "Bob"]}, "rows": [["cup", 2], ["pen", 1]]}
