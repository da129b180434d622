"""Phase two's soundness: an eager relationship read back along its own pair.

SQLAlchemy's eager loaders stop where a path walks back along the relationship it came by: with
`Item.owner` and `User.items` both `lazy="selectin"` and paired (`back_populates`, or a
`backref`), loading an item loads `item.owner`, not `item.owner.items`; reading that on an
AsyncSession raises MissingGreenlet. A chain of different relationships (`item.owner.org`) is
loaded. The routes are RUN after the migration.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import routes, serve, service

__all__ = ["service"]  # the fixture, used by name

PAIRS = {
    "back_populates": (
        'owner: Mapped["User"] = relationship(lazy="selectin", back_populates="items")',
        'items: Mapped[list["Item"]] = relationship(lazy="selectin", back_populates="owner")',
    ),
    "backref": (
        'owner = relationship("User", lazy="selectin", backref=backref("items", lazy="selectin"))',
        "",
    ),
}
MODELS = user_item_models('ITEM_SIDE', user="""
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"))
    org: Mapped[Org | None] = relationship(lazy="selectin")
    USER_SIDE
""", before="""
class Org(Base):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
""", orm='backref, relationship')
SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class ItemBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class OwnerItems(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    items: list[ItemBrief]


class ItemDeep(ItemBrief):
    owner: OwnerItems
"""
ROUTES = """
@router.get("/deep/{item_id}", response_model=ItemDeep)
def deep(item_id: int, db: session_dependency):
    return db.scalars(select(Item).where(Item.id == item_id)).one()
""", """
@router.get("/count/{item_id}")
def count(item_id: int, db: session_dependency):
    item = db.scalars(select(Item).where(Item.id == item_id)).one()
    return {"n": len(item.owner.items)}
""", """
@router.get("/org/{item_id}")
def org(item_id: int, db: session_dependency):
    item = db.scalars(select(Item).where(Item.id == item_id)).one()
    return {"org": item.owner.org.name}
"""
IMPORTS = "from schemas import ItemDeep\n"
CALLS = """
    from models import Org
    with Sync() as s:
        s.add(Org(id=1, name="Acme"))
        s.get(User, 1).org_id = 1
        s.add_all([Item(id=1, name="pen", owner_id=1), Item(id=2, name="ink", owner_id=1)])
        s.commit()
    answers = [client.get(path) for path in ("/deep/1", "/count/1", "/org/1")]
    print(json.dumps([[a.status_code, a.json()] for a in answers]))
"""
EXPECTED = [
    [200, {"name": "pen", "owner": {"name": "Ann", "items": [{"name": "pen"}, {"name": "ink"}]}}],
    [200, {"n": 2}],
    [200, {"org": "Acme"}],
]


@pytest.mark.parametrize("pairing", sorted(PAIRS))
def test_an_eager_relationship_read_back_along_its_pair_is_loaded_after_the_migration(cli, service, pairing):
    item_side, user_side = PAIRS[pairing]
    root = service({
        "models.py": dedent(MODELS).replace("ITEM_SIDE", item_side).replace("USER_SIDE", user_side),
        "schemas.py": dedent(SCHEMAS),
        "api/items.py": routes(*ROUTES).replace("router = APIRouter()", IMPORTS + "\n\nrouter = APIRouter()"),
    })
    assert serve(root, "sqlite", CALLS) == EXPECTED  # the synchronous routes
    document = apply(cli, root)
    for name in ("deep", "count", "org"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    migrated = (root / "api/items.py").read_text(encoding="utf-8")
    # the reverse step gets an option; the chain of different relationships needs none
    assert migrated.count(".options(selectinload(Item.owner).selectinload(User.items))") == 2, migrated
    assert migrated.count(".options(") == 2, migrated
    assert serve(root, "sqlite", CALLS) == EXPECTED
