"""Phase two's refresh of an object whose class has a deferred column.

After the flush of a new row, phase two refreshes the object so that the columns the database
computes (`server_default=...`) are loaded before the response reads them. A whole
`refresh(item)` also unloads the deferred column the route had set (`note`), and FastAPI's
read of it then raised MissingGreenlet: 500, and the request's Session never committed (a
new-user trial). Now the refresh names the computed columns only; where a whole refresh is
needed (the async Session must reload every column), the route blocks, naming the column.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models(
    """
    note: Mapped[str] = mapped_column(String(100), deferred=True)
    created: Mapped[str] = mapped_column(String(20), server_default="fresh")
    """
)
CREATE = """
from pydantic import BaseModel, ConfigDict


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    note: str
    created: str


@router.post("/items", response_model=ItemOut)
def create(name: str, note: str, db: session_dependency):
    item = Item(name=name, note=note, owner_id=1)
    db.add(item)
    db.flush()
    return item
"""
RUN = """
response = client.post("/items", params={"name": "pen", "note": "blue"})
body = response.json()
print(json.dumps({"status": response.status_code, "body": [body.get("note"), body.get("created")]}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_the_refresh_after_a_flush_names_the_computed_columns_and_keeps_the_deferred_one(cli, service, kind):
    root = service({"models.py": MODELS, SUBSYSTEM: routes(CREATE)})
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")
    migrated = function(root, SUBSYSTEM, "create")
    assert 'await db.refresh(item, attribute_names=["created"])' in migrated, migrated
    assert serve(root, kind, RUN) == {"status": 200, "body": ["blue", "fresh"]}


def test_near_miss_without_a_deferred_column_the_refresh_stays_whole(cli, service):
    models = MODELS.replace(", deferred=True", "")
    root = service({"models.py": models, SUBSYSTEM: routes(CREATE)})
    apply(cli, root)
    migrated = function(root, SUBSYSTEM, "create")
    assert "await db.refresh(item)" in migrated, migrated
