"""Phase two and a `column_property` a module-level statement adds to a class once it is mapped
(`Item.tally = column_property(select(...).scalar_subquery())`, SQLModel's way of declaring one).

The database computes it, so the INSERT leaves it unloaded, and a synchronous Session loads it
when it is read after the commit. Read in the class body only, such a column was not known to
be computed: the migrated route returned the new object unrefreshed and serialising `tally`
raised MissingGreenlet (a new-user trial). Now it is refreshed after the commit, as a column
declared in the class body is.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models(orm="column_property", core="func, select") + (
    "\n\nItem.tally = column_property(select(func.count(User.id)).where(User.id == Item.owner_id).scalar_subquery())\n"
)
CREATE = """
from pydantic import BaseModel, ConfigDict


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    tally: int


@router.post("/items", response_model=ItemOut)
def create(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return item
"""
RUN = """
response = client.post("/items", params={"name": "pen"})
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_column_property_added_after_mapping_is_refreshed_after_the_commit(cli, service, kind):
    root = service({"models.py": MODELS, SUBSYSTEM: routes(CREATE)})
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")
    assert "await db.refresh(item)" in function(root, SUBSYSTEM, "create")
    assert serve(root, kind, RUN) == {"status": 200, "body": {"id": 1, "name": "pen", "tally": 1}}
