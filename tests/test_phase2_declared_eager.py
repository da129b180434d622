"""Phase two's soundness: a response model nesting a relationship the mapper declares eager, on
an object refreshed whole after the commit.

`refresh(obj)` loads a `lazy="selectin"` relationship again, and the related rows with it (the
many-to-one `Item.owner`, and the collection a `backref(..., lazy="selectin")` gives `User`):
an object a helper commits and refreshes before returning it (`crud.create_with_owner` in the
full-stack template), or one phase two refreshes after the route's commit, is serialised with
what the commit left. The raw UPDATE before the commit shows a stale answer. Near misses stay
blocked (AM259) with a fix that would unblock them: a lazy relationship (`Item.maker`, declare it
eager), and a helper whose query changes the strategy (`lazyload(Item.owner)`, which the refresh
applies again). The routes are RUN, before and after.
"""

from __future__ import annotations

from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import ENGINE, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models("""
    maker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    owner = relationship(User, foreign_keys=[owner_id], lazy="selectin", backref=backref("items", lazy="selectin"))
    maker = relationship(User, foreign_keys=[maker_id])
""", orm='backref, relationship')
SCHEMAS = """
from pydantic import BaseModel, ConfigDict


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class ItemBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class ItemOut(ItemBrief):
    owner: UserOut


class MakerOut(ItemBrief):
    maker: UserOut | None


class UserItems(UserOut):
    items: list[ItemBrief]
"""
RAW = 'db.execute(text("UPDATE users SET name = name || \'!\'"))'
ROUTES = f"""
def create_with_owner(db: Session, name: str, owner_id: int) -> Item:
    item = Item(name=name, owner_id=owner_id, maker_id=owner_id)
    db.add(item)
    {RAW}
    db.commit()
    db.refresh(item)
    return item
""", """
def get_plain(db: Session, item_id: int) -> Item:
    return db.scalars(select(Item).where(Item.id == item_id).options(lazyload(Item.owner))).one()
""", """
@router.post("/items", response_model=ItemOut)
def create(name: str, db: session_dependency):
    item = create_with_owner(db, name, 1)
    return item
""", f"""
@router.post("/users/{{user_id}}", response_model=UserItems)
def rename(user_id: int, db: session_dependency):
    user = db.get(User, user_id)
    user.name = "Ann"
    {RAW}
    db.commit()
    return user
""", f"""
@router.post("/makers/{{item_id}}", response_model=MakerOut)
def maker(item_id: int, db: session_dependency):
    item = db.get(Item, item_id)
    {RAW}
    db.commit()
    return item
""", f"""
@router.post("/plain/{{item_id}}", response_model=ItemOut)
def plain(item_id: int, db: session_dependency):
    item = get_plain(db, item_id)
    {RAW}
    db.commit()
    return item
"""
IMPORTS = "from sqlalchemy import text\nfrom sqlalchemy.orm import lazyload\n\nfrom schemas import ItemOut, MakerOut, UserItems\n"
CALLS = """
    answers = [client.post(path).json() for path in ("/items?name=pen", "/users/1", "/makers/1", "/plain/1")]
    print(json.dumps(answers))
"""


def test_a_relationship_declared_selectin_is_loaded_by_the_refresh_of_the_returned_object(cli, service):
    root = service({
        # the default expire_on_commit=True: the synchronous serialisation reloaded every row
        "db/engine.py": dedent(ENGINE).replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)"),
        "models.py": dedent(MODELS),
        "schemas.py": dedent(SCHEMAS),
        SUBSYSTEM: routes(*ROUTES).replace("router = APIRouter()", IMPORTS + "\n\nrouter = APIRouter()"),
    })
    # the calls share one database: each UPDATE adds a "!" to what the previous ones wrote
    expected = [
        {"name": "pen", "owner": {"id": 1, "name": "Ann!"}},
        {"id": 1, "name": "Ann!", "items": [{"name": "pen"}]},
        {"name": "pen", "maker": {"id": 1, "name": "Ann!!"}},
        {"name": "pen", "owner": {"id": 1, "name": "Ann!!!"}},
    ]
    assert serve(root, "sqlite", CALLS) == expected  # the synchronous routes
    document = apply(cli, root)
    for name in ("create", "rename"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)["reasons"]
    for name, fix in (("maker", 'eager (`lazy="selectin"`)'), ("plain", "no loader option changing its strategy")):
        blocked = handler(document, name)
        assert blocked["action"] == "blocked" and "AM259" in blocked["codes"], blocked
        assert any(fix in reason for reason in blocked["reasons"]), blocked
    migrated = (root / SUBSYSTEM).read_text(encoding="utf-8")
    assert "async def create(" in migrated and "await db.refresh(user)" in migrated, migrated
    assert serve(root, "sqlite", CALLS) == expected
