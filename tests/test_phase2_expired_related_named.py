"""Phase two's reason for a returned object whose response model reads relationships after the
commit: it names the lazy relationship that keeps the route blocked, never one eager already.

`ItemOut` reads `owner` and `maker`; the route changes the users' names with raw SQL, commits
and returns the item. With `Item.owner` eager and `Item.maker` lazy, the reason said
"`ItemOut.owner` ... reached through a relationship loaded lazily" and advised declaring it
`lazy="selectin"`, which it already was (a new-user trial: `ItemOut.category`, `lazy="selectin"`
already, named where `ItemOut.tags` was the lazy one). Near misses: both lazy, both named; both
eager, the route migrates with the refresh that reloads them, RUN before and after on SQLite,
PostgreSQL and MariaDB (the names the raw UPDATE wrote are what the response shows, as before).
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import ENGINE, KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models("""
    maker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="selectin")
    maker: Mapped[User | None] = relationship(foreign_keys=[maker_id])
""")
HEAD = """
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner: UserOut
    maker: UserOut | None = None
"""
ROUTE = """
@router.post("/renamed/{item_id}", response_model=ItemOut)
def renamed(item_id: int, db: session_dependency):
    item = db.get(Item, item_id)
    db.execute(text("UPDATE users SET name = 'renamed'"))
    db.commit()
    return item
"""
SEED = """
    with Sync() as s:
        s.add(Item(name="pen", owner_id=1, maker_id=2))
        s.commit()
"""
CALLS = """
    print(json.dumps(client.post("/renamed/1").json()))
"""
ANSWER = {"name": "pen", "owner": {"name": "renamed"}, "maker": {"name": "renamed"}}


def _service(service, models: str):  # type: ignore[no-untyped-def]
    return service({
        # the default expire_on_commit=True: the serialisation after the commit reloaded the rows
        "db/engine.py": dedent(ENGINE).replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)"),
        "models.py": dedent(models),
        SUBSYSTEM: routes(ROUTE).replace("router = APIRouter()", dedent(HEAD) + "\n\nrouter = APIRouter()"),
    })


def _reason(cli, root) -> str:  # type: ignore[no-untyped-def]
    blocked = handler(apply(cli, root), "renamed")
    assert blocked["action"] == "blocked" and "AM259" in blocked["codes"], blocked
    (reason,) = [r for r in blocked["reasons"] if "is returned, and" in r]
    return reason


def test_the_reason_names_the_lazy_relationship_not_the_eager_one(cli, service):
    root = _service(service, MODELS)
    written = (root / SUBSYSTEM).read_text(encoding="utf-8")
    reason = _reason(cli, root)
    assert "`item` is returned, and ItemOut.maker reads it" in reason, reason
    assert ("fix: declare the relationship `maker` (read as `ItemOut.maker`) eager "
            "(`lazy=\"selectin\"`; `ItemOut.owner` is already) and refresh `item` whole after the commit") in reason, reason
    assert "ItemOut.owner reads it" not in reason and "relationship `owner`" not in reason, reason
    assert (root / SUBSYSTEM).read_text(encoding="utf-8") == written  # blocked: left as it was


def test_near_miss_both_lazy_both_named(cli, service):
    root = _service(service, MODELS.replace(', lazy="selectin")', ")"))
    reason = _reason(cli, root)
    assert "`item` is returned, and ItemOut.owner reads it" in reason, reason
    assert ("declare the relationships `owner`, `maker` (read as `ItemOut.owner`, `ItemOut.maker`) eager "
            "(`lazy=\"selectin\"`) and refresh `item` whole") in reason, reason
    assert "already" not in reason, reason


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_both_eager_migrates_and_serves_what_the_commit_left(cli, service, kind):
    root = _service(service, MODELS.replace("foreign_keys=[maker_id])", 'foreign_keys=[maker_id], lazy="selectin")'))
    assert serve(root, kind, SEED + CALLS) == ANSWER  # the synchronous route
    document = apply(cli, root)
    assert handler(document, "renamed")["action"] == "migrate", handler(document, "renamed")["reasons"]
    assert "await db.refresh(item)" in (root / SUBSYSTEM).read_text(encoding="utf-8")
    assert serve(root, kind, SEED + CALLS) == ANSWER
