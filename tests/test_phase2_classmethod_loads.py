"""Phase two through classmethod finders on models (`Item.by_name(db, name)` running
`select(cls)`), proved by running.

The class a classmethod query loads is the one the method is defined on, when no project class
derives from it: what the route then reads through a relationship gets its eager load in that
query (`selectinload(cls.owner)`), as it does for a query naming the model. A model with a
subclass may be loaded as the subclass, whose relationships are its own: its reads stay judged
by their names.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_holders import RELATED_MODELS
from test_phase2_objects import apply_objects
from test_phase2_rules import handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

FINDERS = """

    @classmethod
    def by_name(cls, db: Session, name: str) -> "Item | None":
        return db.scalars(select(cls).where(cls.name == name)).first()

    @classmethod
    def one(cls, db: Session, id: int) -> "Item | None":
        return db.get(cls, id)
"""
MODELS = RELATED_MODELS.replace(
    "from sqlalchemy import ForeignKey, String",
    "from sqlalchemy import ForeignKey, String, select",
).replace(
    "from sqlalchemy.orm import DeclarativeBase,", "from sqlalchemy.orm import Session, DeclarativeBase,"
) + FINDERS
ROUTES = """
@router.get("/items/by-name/{name}")
async def owner_by_name(name: str, db: session_dependency):
    item = Item.by_name(db, name)
    return {"owner": item.owner.name}


@router.get("/items/{id}")
async def owner_of(id: int, db: session_dependency):
    return {"owner": Item.one(db, id).owner.name}
"""
CHECK = """
    with Sync() as s:
        s.add_all([Item(name="a", owner_id=2), Item(name="b", owner_id=1)])
        s.commit()
    print(json.dumps([client.get(p).json() for p in ("/items/by-name/a", "/items/2")]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_classmethod_finder_gets_the_eager_load_of_what_the_route_reads(cli, service, kind):
    root = service({"models.py": MODELS, SUBSYSTEM: routes(ROUTES)})
    document = apply_objects(cli, root)
    for route in ("owner_by_name", "owner_of"):
        found = handler(document, route)
        assert found["action"] == "migrate", found
        assert "adds the eager load of Item.owner to the query in models.Item." in " ".join(found["reasons"])
    text = read(root, "models.py")
    assert "(await db.scalars(select(cls).where(cls.name == name).options(selectinload(cls.owner)))).first()" in text
    assert "(await db.scalars(select(cls).where(cls.id == id).options(selectinload(cls.owner)))).one_or_none()" in text
    assert serve(root, kind, CHECK) == [{"owner": "Bob"}, {"owner": "Ann"}]


def test_near_miss_a_classmethod_of_a_model_with_a_subclass_is_judged_by_names(cli, service):
    models = MODELS + """

class SpecialItem(Item):
    pass
"""
    root = service({"models.py": models, SUBSYSTEM: routes(ROUTES)})
    document = apply_objects(cli, root)
    found = handler(document, "owner_by_name")
    assert found["action"] == "blocked", found
    assert "`item.owner` reads relationship Item.owner, not eager-loaded" in " ".join(found["reasons"])
    assert "selectinload" not in read(root, "models.py")
