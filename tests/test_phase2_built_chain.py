"""Phase two's soundness: a relationship read two levels down on an object the route builds.

`user = User(...); db.add(user); db.commit(); return user` served by a response model nesting
`org.items` (or a read of `user.org.items` in code): `refresh(user, attribute_names=["org"])`
loads `user.org`, and `org.items` only where loading Org loads it (declared eager on Org, and the
Org not already in the Session: a built one, or one loaded before, is found by key and no query of
Org runs). Every such read blocks naming its path; the routes are RUN before and after the
migration and answer the same.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models('org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"), default=None)', user="""
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"), default=None)
    org = relationship("Org", lazy="ORG")
""", before="""
class Org(Base):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    items = relationship("Item", lazy="ITEMS")
""")
SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class ItemBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    items: list[ItemBrief]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    org: OrgOut
"""
ROUTES = ("""
@router.post("/served", response_model=UserOut)
def served(name: str, db: session_dependency):
    user = User(id=6, name=name, org_id=1)
    db.add(user)
    db.commit()
    return user
""", """
@router.post("/code")
def code(name: str, db: session_dependency):
    user = User(id=7, name=name, org_id=1)
    db.add(user)
    db.commit()
    return {"n": len(user.org.items)}
""", """
@router.post("/built_org", response_model=UserOut)
def built_org(name: str, db: session_dependency):
    org = Org(id=9, name="new")
    user = User(id=8, name=name, org=org)
    db.add(user)
    db.commit()
    return user
""", """
@router.post("/code_refreshed")
def code_refreshed(name: str, db: session_dependency):
    org = Org(id=11, name="newer")
    user = User(id=10, name=name, org=org)
    db.add(user)
    db.commit()
    db.refresh(user, attribute_names=["org"])
    return {"n": len(user.org.items)}
""", """
@router.post("/code_held")
def code_held(name: str, db: session_dependency):
    org = Org(id=13, name="newest")
    user = User(id=12, name=name, org=org)
    db.add(user)
    db.commit()
    db.refresh(user, attribute_names=["org"])
    held = user.org
    return {"n": len(held.items)}
""")
CALLS = """
from models import Org
with Sync() as s:
    s.add(Org(id=1, name="acme"))
    s.flush()
    s.add(Item(id=1, name="pen", owner_id=1, org_id=1))
    s.commit()
answers = [client.post("/served?name=f"), client.post("/code?name=c"), client.post("/built_org?name=b"),
           client.post("/code_refreshed?name=r"), client.post("/code_held?name=h")]
print(json.dumps([[a.status_code, a.json()] for a in answers]))
"""
EXPECTED = [
    [200, {"name": "f", "org": {"name": "acme", "items": [{"name": "pen"}]}}],
    [200, {"n": 1}],
    [200, {"name": "b", "org": {"name": "new", "items": []}}],
    [200, {"n": 0}],
    [200, {"n": 0}],
]
BLOCKED = {
    "served": "response model UserOut.org.items reads relationship Org.items",
    "code": "`user.org.items` reads relationship Org.items",
    "built_org": "response model UserOut.org.items reads relationship Org.items",
    "code_refreshed": "`user.org.items` reads relationship Org.items",
    "code_held": "`held.items` reads relationship Org.items",
}
STRATEGIES = ["select", "joined", "selectin"]


@pytest.mark.parametrize("items", STRATEGIES)
@pytest.mark.parametrize("org", STRATEGIES)
def test_a_nested_relationship_of_a_built_object_loads_or_blocks_after_the_migration(cli, service, org, items):
    root = service({
        "models.py": dedent(MODELS).replace("ITEMS", items).replace("ORG", org),
        "schemas.py": dedent(SCHEMAS),
        "api/items.py": routes(*ROUTES)
        .replace("from models import Item, User", "from models import Item, Org, User")
        .replace("router = APIRouter()", "from schemas import UserOut\n\nrouter = APIRouter()"),
    })
    assert serve(root, "sqlite", CALLS) == EXPECTED  # the synchronous routes
    document = apply(cli, root)
    for name, why in BLOCKED.items():
        decision = handler(document, name)
        assert decision["action"] == "blocked", decision
        assert any(why in reason for reason in decision["reasons"]), decision
        if items != "select" and name in ("code_refreshed", "code_held"):
            assert any("which the code builds, and loading it by key" in r for r in decision["reasons"]), decision
    assert serve(root, "sqlite", CALLS) == EXPECTED
