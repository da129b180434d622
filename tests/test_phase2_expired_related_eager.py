"""Phase two's soundness: an object a relationship the mapper loads eagerly led to, read after
the commit.

`refresh(item)` loads `item.owner` again when `Item.owner` is `lazy="joined"` (a second hop,
`item.owner.team`, when that relationship is eager too), with the row as the commit left it
(`selectin` and `subquery` alike): such a read migrates with the refresh phase two adds for `item`. The raw UPDATE in the route
changes the related row before the commit, so a stale answer would show. Near misses stay
blocked (AM259): a `lazy="select"` relationship (`item.maker`), a second hop through
one (`item.owner.club`), a query that changes the strategy (`lazyload(Item.owner)`). The routes
are RUN, before and after.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import ENGINE, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models("""
    maker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")
    maker: Mapped[User | None] = relationship(foreign_keys=[maker_id])
""", user="""
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    club_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    team: Mapped[Team | None] = relationship(foreign_keys=[team_id], lazy="joined")
    club: Mapped[Team | None] = relationship(foreign_keys=[club_id])
""", before="""
class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
""")
RAW_USERS = 'db.execute(text("UPDATE users SET name = name || \'!\'"))'
RAW_TEAMS = 'db.execute(text("UPDATE teams SET name = name || \'!\'"))'
ROUTES = f"""
@router.post("/joined/{{item_id}}")
def joined(item_id: int, db: session_dependency):
    item = db.get(Item, item_id)
    {RAW_USERS}
    db.commit()
    return {{"item": item.name, "owner": item.owner.name}}
""", f"""
@router.post("/hops/{{item_id}}")
def hops(item_id: int, db: session_dependency):
    item = db.get(Item, item_id)
    {RAW_TEAMS}
    db.commit()
    return {{"team": item.owner.team.name}}
""", f"""
@router.post("/maker/{{item_id}}")
def maker(item_id: int, db: session_dependency):
    item = db.get(Item, item_id)
    seen = item.maker.name
    {RAW_USERS}
    db.commit()
    return {{"seen": seen, "maker": item.maker.name}}
""", f"""
@router.post("/club/{{item_id}}")
def club(item_id: int, db: session_dependency):
    item = db.get(Item, item_id)
    seen = item.owner.club.name
    {RAW_TEAMS}
    db.commit()
    return {{"seen": seen, "club": item.owner.club.name}}
""", f"""
@router.post("/lazy/{{item_id}}")
def lazy(item_id: int, db: session_dependency):
    item = db.get(Item, item_id, options=[lazyload(Item.owner)])
    seen = item.owner.name
    {RAW_USERS}
    db.commit()
    return {{"seen": seen, "owner": item.owner.name}}
"""
IMPORTS = "from sqlalchemy import text\nfrom sqlalchemy.orm import lazyload\n"
SEED = """
    from models import Team

    with Sync() as s:
        s.add_all([Team(id=1, name="Red"), Team(id=2, name="Blue")])
        s.flush()
        s.get(User, 1).team_id, s.get(User, 1).club_id = 1, 2
        s.add(Item(name="pen", owner_id=1, maker_id=2))
        s.commit()
"""
CALLS = """
    answers = [client.post(f"/{path}/1").json() for path in ("joined", "hops", "maker", "club", "lazy")]
    print(json.dumps(answers))
"""


@pytest.mark.parametrize(("owner", "team"), [("joined", "joined"), ("selectin", "subquery")])
def test_a_relationship_the_mapper_loads_eagerly_is_loaded_again_by_the_refresh(cli, service, owner, team):
    files = {
        # the default expire_on_commit=True: every read after the commit reloaded its row
        "db/engine.py": dedent(ENGINE).replace("sessionmaker(engine, expire_on_commit=False)", "sessionmaker(engine)"),
        "models.py": dedent(MODELS).replace(
            'owner_id], lazy="joined"', f'owner_id], lazy="{owner}"'
        ).replace('team_id], lazy="joined"', f'team_id], lazy="{team}"'),
        SUBSYSTEM: routes(*ROUTES).replace("router = APIRouter()", IMPORTS + "\n\nrouter = APIRouter()"),
    }
    root = service(files)
    # the calls share one database: each UPDATE adds a "!" to what the previous ones wrote
    expected = [
        {"item": "pen", "owner": "Ann!"}, {"team": "Red!"}, {"seen": "Bob!", "maker": "Bob!!"},
        {"seen": "Blue!", "club": "Blue!!"}, {"seen": "Ann!!", "owner": "Ann!!!"},
    ]
    before = serve(root, "sqlite", SEED + CALLS)  # the synchronous routes
    assert before == expected
    document = apply(cli, root)
    for name in ("joined", "hops"):
        assert handler(document, name)["action"] == "migrate", handler(document, name)["reasons"]
    for name, shown in (("maker", "`item.maker.name`"), ("club", "`item.owner.club.name`"),
                        ("lazy", "`item.owner.name`")):
        blocked = handler(document, name)
        assert blocked["action"] == "blocked" and "AM259" in blocked["codes"], blocked
        assert any(shown in reason for reason in blocked["reasons"]), blocked
    migrated = (root / SUBSYSTEM).read_text(encoding="utf-8")
    assert "await db.refresh(item)" in migrated, migrated
    assert serve(root, "sqlite", SEED + CALLS) == expected
