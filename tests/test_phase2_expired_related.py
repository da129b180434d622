"""Phase two's soundness: objects a relationship led to, read after the commit expired them.

With the synchronous sessionmaker's `expire_on_commit=True`, `owner = item.owner` (or
`first = user.items[0]`, `for i in user.items`, `item.owner.name`, `[i.name for i in user.items]`)
read after the commit reloaded the row, here changed by raw SQL in the transaction. The
migrated code refreshes `item` / `user`, which leaves the related objects as the identity map
holds them: the route answered the names from before the UPDATE. Such a route is blocked
(AM259); the near miss, a read through a relationship before the commit, or counting the
collection after it, or returning an object the route made, still migrates. A response model
reading a relationship of an object returned after the commit (`UserOut.items`) counts. The routes are RUN, before and after.
"""

from __future__ import annotations

from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import ENGINE, MODELS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

RAW_USERS = 'db.execute(text("UPDATE users SET name = name || \'!\'"))'
RAW_ITEMS = 'db.execute(text("UPDATE items SET name = name || \'!\'"))'
ROUTES = f"""
@router.post("/bound/{{item_id}}")
def bound(item_id: int, db: session_dependency):
    item = db.get(Item, item_id)
    owner = item.owner
    {RAW_USERS}
    db.commit()
    return {{"owner": owner.name}}
""", f"""
@router.post("/chain/{{item_id}}")
def chain(item_id: int, db: session_dependency):
    item = db.get(Item, item_id)
    seen = item.owner.name
    {RAW_USERS}
    db.commit()
    return {{"seen": seen, "owner": item.owner.name}}
""", f"""
@router.post("/first/{{user_id}}")
def first(user_id: int, db: session_dependency):
    user = db.get(User, user_id)
    head = user.items[0]
    {RAW_ITEMS}
    db.commit()
    return {{"first": head.name}}
""", f"""
@router.post("/listed/{{user_id}}")
def listed(user_id: int, db: session_dependency):
    user = db.get(User, user_id)
    for item in user.items:
        item.name = item.name.upper()
    {RAW_ITEMS}
    db.commit()
    return [i.name for i in user.items]
""", f"""
@router.post("/counted/{{user_id}}")
def counted(user_id: int, db: session_dependency):
    user = db.get(User, user_id)
    names = [i.name for i in user.items]
    {RAW_ITEMS}
    db.commit()
    return {{"before": names, "count": len(user.items), "user": user.name}}
"""
RESPONSES = f"""
@router.post("/served/{{user_id}}", response_model=UserOut)
def served(user_id: int, db: session_dependency):
    user = db.get(User, user_id)
    for item in user.items:
        item.name = item.name.upper()
    {RAW_ITEMS}
    db.commit()
    return user
""", """
@router.post("/created", response_model=UserOut)
def created(name: str, db: session_dependency):
    user = User(name=name, items=[Item(name="jar")])
    db.add(user)
    db.commit()
    return user
"""
HEAD = """
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    items: list[ItemOut]
"""
RELATIONSHIPS = """
    owner: Mapped[User] = relationship(back_populates="items")
"""
SEED = """
    with Sync() as s:
        s.add_all([Item(name="pen", owner_id=1), Item(name="cup", owner_id=1)])
        s.commit()
"""
CALLS = """
    answers = [
        client.post("/bound/1").json(),
        client.post("/chain/1").json(),
        client.post("/first/1").json(),
        client.post("/listed/1").json(),
        client.post("/counted/1").json(),
        client.post("/served/1").json(),
        client.post("/created", params={"name": "Cy"}).json(),
    ]
    print(json.dumps(answers))
"""


def models() -> str:
    text = dedent(MODELS).replace(
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column",
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship",
    )
    text = text.replace(
        '    name: Mapped[str] = mapped_column(String(100))\n\n\nclass Item',
        '    name: Mapped[str] = mapped_column(String(100))\n'
        '    items: Mapped[list["Item"]] = relationship(back_populates="owner", order_by="Item.id")\n\n\nclass Item',
        1,
    )
    return text + "\n" + dedent(RELATIONSHIPS).join(["    ", ""]) + "\n"


def test_an_object_reached_through_a_relationship_and_read_after_the_commit_blocks_the_route(cli, service):
    files = {
        # the default expire_on_commit=True: every read after the commit reloaded its row
        "db/engine.py": dedent(ENGINE).replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)"),
        "models.py": models(),
        SUBSYSTEM: routes(*ROUTES, *RESPONSES).replace("router = APIRouter()", dedent(HEAD) + "\n\nrouter = APIRouter()"),
    }
    root = service(files)
    # the calls share one database: each UPDATE adds a "!" to what the previous ones wrote
    expected = [
        {"owner": "Ann!"}, {"seen": "Ann!", "owner": "Ann!!"}, {"first": "pen!"}, ["PEN!!", "CUP!!"],
        {"before": ["PEN!!", "CUP!!"], "count": 2, "user": "Ann!!"},
        {"name": "Ann!!", "items": [{"name": "PEN!!!!"}, {"name": "CUP!!!!"}]},
        {"name": "Cy", "items": [{"name": "jar"}]},
    ]
    before = serve(root, "sqlite", SEED + CALLS)  # the synchronous routes
    assert before == expected
    document = apply(cli, root)
    for name, shown in (("bound", "`owner` (bound to `item.owner`)"), ("chain", "`item.owner.name`"),
                        ("first", "`head` (bound to `user.items[0]`)"), ("listed", "the elements of `user.items`"),
                        ("served", "`user` is returned, and UserOut.items reads it")):
        blocked = handler(document, name)
        assert blocked["action"] == "blocked" and "AM259" in blocked["codes"], blocked
        assert any(shown in reason for reason in blocked["reasons"]), blocked
    # near misses: the collection counted, not read; a user made here, whose items this transaction wrote
    for name in ("counted", "created"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert serve(root, "sqlite", SEED + CALLS) == expected
