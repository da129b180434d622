"""Phase two's soundness: an object the route builds, handed to a project helper that reads its relationships.

`user = User(...); db.add(user); db.commit(); return {"n": org_size(user)}` with `def
org_size(u): return len(u.org.items)` (or `len(u.items)`): no query loaded `user`, so each
relationship the helper reads loads on first read, one declared eager too, and raises
MissingGreenlet under AsyncSession; so do a property reading a relationship (`u.org_name`) and a
deferred column. Such a route blocks naming the helper and the path. A helper reading columns
only, one given an object a query loads (the eager load is added to that query) and one called
after a refresh naming what it reads still migrate. An object a project function builds and
returns (`make_user(db, ...)`), traced to no query, blocks the same way, read in a helper or in the
route itself. The routes are RUN before
and after the migration and answer the same.
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
    items = relationship("Item", lazy="ITEMS")
    bio: Mapped[str | None] = mapped_column(String(100), deferred=True)

    @property
    def org_name(self):
        return self.org.name
""", before="""
class Org(Base):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    items = relationship("Item", lazy="ITEMS")
""")
HELPERS = """
def org_size(u):
    return len(u.org.items)


def own_items(u):
    return len(u.items)


def label(u):
    return u.name.upper()


def org_label(u):
    return u.org_name


def bio_of(u):
    return u.bio
"""
ROUTES = ("""
from helpers import bio_of, label, org_label, org_size, own_items


def local_size(user):
    items = user.org.items
    return len(items)
""", """
@router.post("/deep")
async def deep(name: str, db: session_dependency):
    user = User(id=6, name=name, org_id=1)
    db.add(user)
    db.commit()
    return {"n": org_size(user)}
""", """
@router.post("/one")
async def one(name: str, db: session_dependency):
    user = User(id=7, name=name, org_id=1)
    db.add(user)
    db.flush()
    n = own_items(user)
    db.commit()
    return {"n": n}
""", """
@router.post("/local")
async def local(name: str, db: session_dependency):
    user = User(id=8, name=name, org_id=1)
    db.add(user)
    db.commit()
    return {"n": local_size(user)}
""", """
@router.post("/prop")
async def prop(name: str, db: session_dependency):
    user = User(id=10, name=name, org_id=1)
    db.add(user)
    db.commit()
    return {"org": org_label(user)}
""", """
@router.post("/deferred")
async def deferred(name: str, db: session_dependency):
    user = User(id=11, name=name, org_id=1)
    db.add(user)
    db.commit()
    return {"bio": bio_of(user)}
""", """
@router.post("/refreshed")
async def refreshed(name: str, db: session_dependency):
    user = User(id=12, name=name, org_id=1)
    db.add(user)
    db.commit()
    db.refresh(user, attribute_names=["items"])
    return {"n": own_items(user)}
""", """
def make_user(db, uid, name):
    user = User(id=uid, name=name, org_id=1)
    db.add(user)
    db.commit()
    return user


@router.post("/factory")
async def factory(name: str, db: session_dependency):
    user = make_user(db, 13, name)
    return {"n": org_size(user)}


@router.post("/factory_own")
async def factory_own(name: str, db: session_dependency):
    user = make_user(db, 14, name)
    return {"n": len(user.org.items)}
""", """
@router.post("/columns")
async def columns(name: str, db: session_dependency):
    user = User(id=9, name=name, org_id=1)
    db.add(user)
    db.commit()
    return {"label": label(user)}
""", """
@router.get("/queried")
async def queried(db: session_dependency):
    user = db.scalars(select(User).where(User.id == 1)).unique().one()
    return {"n": own_items(user), "m": org_size(user)}
""")
CALLS = """
from models import Org
with Sync() as s:
    s.add(Org(id=1, name="acme"))
    s.flush()
    s.get(User, 1).org_id = 1
    s.add(Item(id=1, name="pen", owner_id=1, org_id=1))
    s.commit()


def call(method, url):
    try:
        answer = getattr(client, method)(url)
    except Exception as error:  # the server's own exception, re-raised by the TestClient
        if "greenlet_spawn has not been called" in str(error):  # MissingGreenlet, or a StatementError around it
            return ["MissingGreenlet"]
        return [type(error).__name__, str(error)[:300]]
    return [answer.status_code, answer.json()]


print(json.dumps([call("post", "/deep?name=d"), call("post", "/one?name=o"), call("post", "/local?name=l"),
                  call("post", "/columns?name=c"), call("get", "/queried"),
                  call("post", "/prop?name=p"), call("post", "/deferred?name=b"), call("post", "/refreshed?name=r"),
                  call("post", "/factory?name=f"), call("post", "/factory_own?name=g")]))
"""
EXPECTED = [
    [200, {"n": 1}],
    [200, {"n": 0}],
    [200, {"n": 1}],
    [200, {"label": "C"}],
    [200, {"n": 1, "m": 1}],
    [200, {"org": "acme"}],
    [200, {"bio": None}],
    [200, {"n": 0}],
    [200, {"n": 1}],
    [200, {"n": 1}],
]
BLOCKED = {
    "deep": "helpers.py:2: `u.org",
    "one": "helpers.py:6: `u.items`",
    "local": "`user.org",
    "prop": "org_name",
    "deferred": "bio",
    "factory": "org",
    "factory_own": "`user.org",
}
STRATEGIES = ["select", "joined"]


def build(service, org: str, items: str):  # type: ignore[no-untyped-def]
    return service({
        "models.py": dedent(MODELS).replace("ITEMS", items).replace("ORG", org),
        "helpers.py": dedent(HELPERS),
        "api/items.py": routes(*ROUTES).replace("from models import Item, User", "from models import Item, Org, User"),
    })


def test_the_migrated_shape_raises_missing_greenlet(cli, service):
    """The hazard, run: `columns` migrates (`await db.commit()`, then `label(user)`); the same
    migrated body handing `user` to `org_size` (what `deep` became before this was blocked) raises
    MissingGreenlet, `User.org` declared eager or not."""
    root = build(service, "joined", "joined")
    document = apply(cli, root)
    assert handler(document, "columns")["action"] == "migrate"
    migrated = root / "api" / "items.py"
    source = migrated.read_text()
    assert "await db.commit()" in source
    migrated.write_text(source.replace('{"label": label(user)}', '{"label": org_size(user)}'))
    assert serve(root, "sqlite", CALLS)[3] == ["MissingGreenlet"]


@pytest.mark.parametrize("items", STRATEGIES)
@pytest.mark.parametrize("org", STRATEGIES)
def test_a_built_object_handed_to_a_helper_reading_relationships_blocks(cli, service, org, items):
    root = build(service, org, items)
    assert serve(root, "sqlite", CALLS) == EXPECTED  # the synchronous routes
    document = apply(cli, root)
    for name, helper in BLOCKED.items():
        decision = handler(document, name)
        assert decision["action"] == "blocked", decision
        assert any(helper in reason for reason in decision["reasons"]), decision["reasons"]
    for name in ("columns", "queried", "refreshed"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)
    assert serve(root, "sqlite", CALLS) == EXPECTED
