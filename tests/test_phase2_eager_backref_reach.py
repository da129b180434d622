"""Phase two's soundness: a relationship declared eager (`backref("items", lazy="joined")`, or
`"selectin"`) is loaded only where a query of its class loads the object, as that query says.

On an object the route builds and adds, no query loads it: the relationship loads on its first
read, in the route or when the response model is serialised (MissingGreenlet under
AsyncSession). A query's own `lazyload(User.items)` leaves it to its first read the same way, and
an eager option added beside that one conflicts with it. The built object returned gets a refresh
naming the relationship; the rest blocks naming why, and the unchanged routes still answer. A
query of the class without such an option loads it: no option, no block. The routes are RUN.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models('owner = relationship("User", backref=backref("items", lazy="LAZY"))', orm='backref, relationship')
SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class ItemBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    items: list[ItemBrief]
"""
ROUTES = ("""
@router.post("/fresh", response_model=UserOut)
def fresh(name: str, db: session_dependency):
    user = User(id=6, name=name)
    db.add(user)
    db.commit()
    return user
""", """
@router.post("/built")
def built(name: str, db: session_dependency):
    user = User(id=3, name=name)
    db.add(user)
    db.flush()
    n = len(user.items)
    db.commit()
    return {"n": n}
""", """
@router.post("/named/{user_id}")
def named(user_id: int, db: session_dependency):
    user = User(id=user_id, name="x")
    db.add(user)
    db.commit()
    db.refresh(user, attribute_names=["name"])
    return {"n": len(user.items)}
""", """
@router.get("/lazy/{user_id}")
def lazy(user_id: int, db: session_dependency):
    user = db.scalars(select(User).where(User.id == user_id).options(lazyload(User.items))).unique().one()
    return {"n": len(user.items)}
""", """
@router.get("/got/{user_id}")
def got(user_id: int, db: session_dependency):
    user = db.get(User, user_id, options=[lazyload(User.items)])
    return {"n": len(user.items)}
""", """
@router.get("/queried/{user_id}")
def queried(user_id: int, db: session_dependency):
    user = db.scalars(select(User).where(User.id == user_id)).unique().one()
    return {"n": len(user.items)}
""")
CALLS = """
with Sync() as s:
    s.add(Item(id=1, name="pen", owner_id=1))
    s.commit()
answers = [
    client.post("/fresh?name=f"), client.post("/built?name=b"), client.post("/named/4"),
    client.get("/lazy/1"), client.get("/got/1"), client.get("/queried/1"),
]
print(json.dumps([[a.status_code, a.json()] for a in answers]))
"""
EXPECTED = [
    [200, {"name": "f", "items": []}], [200, {"n": 0}], [200, {"n": 0}], [200, {"n": 1}], [200, {"n": 1}],
    [200, {"n": 1}],
]
BLOCKED = {
    "built": "declared eager, which loads it with a query of User: `user` is one the code builds",
    "named": "declared eager, which loads it with a query of User: `user` is one the code builds",
    "lazy": "leaves to load on first read by its own `lazyload(...)` or `raiseload(...)` option",
    "got": "leaves to load on first read by its own `lazyload(...)` or `raiseload(...)` option",
}


@pytest.mark.parametrize("lazy", ["joined", "selectin"])
def test_a_relationship_declared_eager_loads_only_by_a_query_saying_so_after_the_migration(cli, service, lazy):
    root = service({
        "models.py": dedent(MODELS).replace("LAZY", lazy),
        "schemas.py": dedent(SCHEMAS),
        "api/items.py": routes(*ROUTES)
        .replace("from sqlalchemy.orm import Session", "from sqlalchemy.orm import Session, lazyload")
        .replace("router = APIRouter()", "from schemas import UserOut\n\nrouter = APIRouter()"),
    })
    assert serve(root, "sqlite", CALLS) == EXPECTED  # the synchronous routes
    document = apply(cli, root)
    for name, why in BLOCKED.items():
        decision = handler(document, name)
        assert decision["action"] == "blocked", decision
        assert any(why in reason for reason in decision["reasons"]), decision
    for name in ("fresh", "queried"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    migrated = (root / "api/items.py").read_text(encoding="utf-8")
    assert 'await db.refresh(user, attribute_names=["items"])' in migrated, migrated  # fresh's
    assert "selectinload" not in migrated, migrated  # the query loads it as declared
    assert serve(root, "sqlite", CALLS) == EXPECTED
