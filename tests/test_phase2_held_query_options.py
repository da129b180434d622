"""Loader options written in a legacy Query chain, as SQLAlchemy applies them.

`self.session.query(Item).options(selectinload(Item.owner)).all()` in a repository loads each
item's owner with the query; phase two moves the chain as written (an awaited `select()` keeping
its options), but did not read them: a route reading `item.owner` on what it returns was
blocked as a lazy load, and on a route's own `db.query(Item).options(selectinload(...))` a
second, identical option was added. The options written are now credited, on the
relationship path they name, and the routes RUN on SQLite, PostgreSQL and MariaDB.

Options naming one relationship both ways (`lazyload(User.items)` beside
`selectinload(User.items)`, `raiseload`, in one `.options()` or chained) do not make the later
one win: SQLAlchemy refuses such a query whenever it runs (InvalidRequestError, "Loader
strategy replacement ... is in conflict with existing strategy"), whatever their order. The
route is blocked saying so, and no option is added beside them. Among wildcards the last one
wins, and an option naming the relationship wins over every wildcard: both are tested against
SQLAlchemy itself.
"""

from __future__ import annotations

import ast

import pytest
import test_phase2_soundness
from test_phase2_held_legacy_queries import MODELS
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve

service = test_phase2_soundness.service

REPOSITORY = """
from sqlalchemy.orm import Session, lazyload, selectinload

from models import Item, User


class ItemRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, name: str, owner_id: int) -> None:
        self.session.add(Item(name=name, owner_id=owner_id))
        self.session.commit()

    def listed(self) -> list[Item]:
        return self.session.query(Item).options(selectinload(Item.owner)).order_by(Item.id).all()

    def users(self) -> list[User]:
        return self.session.query(User).options(OPTIONS).order_by(User.id).all()
"""
ROUTES = """
def get_repo(db: Session = Depends(get_db_session)) -> ItemRepository:
    return ItemRepository(db)


@router.post("/items")
def add(name: str, owner_id: int, repo: ItemRepository = Depends(get_repo)):
    repo.add(name, owner_id)
    return [[item.name, item.owner.name] for item in repo.listed()]


@router.get("/users")
def users(repo: ItemRepository = Depends(get_repo)):
    return [[item.name for item in user.items] for user in repo.users()]
"""
HEAD = "from repository import ItemRepository\n"


def _service(service, options: str):  # type: ignore[no-untyped-def]
    return service({
        "models.py": MODELS, "repository.py": REPOSITORY.replace("OPTIONS", options), SUBSYSTEM: routes(HEAD, ROUTES),
    })


ADD_RUN = """
    answers = [client.post("/items", params={"name": name, "owner_id": owner}).json()
               for name, owner in (("pen", 1), ("ink", 2))]
    with Sync() as s:
        stored = [[i.name, i.owner_id] for i in s.scalars(select(Item).order_by(Item.id))]
    print(json.dumps([answers, stored]))
"""
ADD_EXPECTED = [[[["pen", "Ann"]], [["pen", "Ann"], ["ink", "Bob"]]], [["pen", 1], ["ink", 2]]]


@pytest.mark.parametrize("kind", KINDS)
def test_a_held_chains_selectinload_is_credited_and_the_route_runs(cli, service, kind):
    root = _service(service, "selectinload(User.items)")
    assert serve(root, kind, ADD_RUN) == ADD_EXPECTED
    document = apply(cli, root)
    assert handler(document, "add")["action"] == "migrate", handler(document, "add")
    text = read(root, "repository.py")
    assert "await self.session.scalars(select(Item).options(selectinload(Item.owner)).order_by(Item.id))" in text, text
    assert serve(root, kind, ADD_RUN) == ADD_EXPECTED


def test_near_miss_a_held_chain_loading_another_relationship_is_not_credited(cli, service):
    # `selectinload(User.items)` on a User query says nothing of Item.owner.
    root = service({
        "models.py": MODELS,
        "repository.py": REPOSITORY.replace("OPTIONS", "selectinload(User.items)").replace(
            "options(selectinload(Item.owner))", "options(lazyload(Item.owner))"
        ),
        SUBSYSTEM: routes(HEAD, ROUTES),
    })
    found = handler(apply(cli, root), "add")
    assert found["action"] == "blocked", found
    # the method moves with the route, so its query is read as a helper's own: its option named
    assert any("reads Item.owner, which the query at line 15 leaves to load on first read by its own" in reason
               for reason in found["reasons"]), found["reasons"]


OWN = """
@router.get("/owners")
def owners(db: Session = Depends(get_db_session)):
    return [item.owner.name for item in db.query(Item).options(selectinload(Item.owner)).order_by(Item.id).all()]
"""


def test_a_routes_own_chain_keeps_its_one_option(cli, service):
    root = service({"models.py": MODELS, SUBSYSTEM: routes("from sqlalchemy.orm import selectinload\n", OWN)})
    document = apply(cli, root)
    found = handler(document, "owners")
    assert found["action"] == "migrate", found
    assert not any("adds the eager load" in reason for reason in found["reasons"]), found["reasons"]
    text = read(root, SUBSYSTEM)
    assert text.count("selectinload(Item.owner)") == 1, text
    assert serve(root, "sqlite", """
        with Sync() as s:
            s.add_all([Item(name="pen", owner_id=2), Item(name="ink", owner_id=1)])
            s.commit()
        print(json.dumps(client.get("/owners").json()))
    """) == ["Bob", "Ann"]


PREMISE = """
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import lazyload, raiseload, selectinload

with Sync() as s:
    s.add(Item(name="pen", owner_id=1))
    s.commit()
found = []
for options in {cases}:
    with Sync() as s:
        try:
            s.scalars(select(User).options(*options)).all()
            s.query(User).options(*options).all()
            found.append("ran")
        except InvalidRequestError as error:
            found.append("in conflict" if "is in conflict with existing strategy" in str(error) else str(error))
print(json.dumps(found))
"""
CONFLICTS = (
    "lazyload(User.items), selectinload(User.items)",
    "selectinload(User.items), lazyload(User.items)",
    "raiseload(User.items), selectinload(User.items)",
)


def test_the_premise_sqlalchemy_refuses_options_in_conflict_whatever_their_order(service):
    root = _service(service, "selectinload(User.items)")
    cases = "[" + ", ".join(f"[{case}]" for case in CONFLICTS) + "]"
    assert serve(root, "sqlite", PREMISE.format(cases=cases)) == ["in conflict"] * len(CONFLICTS)


@pytest.mark.parametrize("options", CONFLICTS)
def test_a_held_chain_both_loading_and_leaving_lazy_blocks_naming_the_conflict(cli, service, options):
    root = _service(service, options)
    document = apply(cli, root)
    found = handler(document, "users")
    assert found["action"] == "blocked", found
    (reason,) = found["reasons"]
    assert reason.startswith(
        "api/items.py:27: `user.items` reads relationship User.items: the query on `self.session` in "
        "ItemRepository.users (repository.py:18), which loads `user`, both eager-loads and leaves lazy `items` ("
    ), reason
    assert "SQLAlchemy refuses whatever their order (InvalidRequestError" in reason, reason
    assert reason.endswith("fix: keep one loader option for `items` in that query (`selectinload` to read it here)")
    assert handler(document, "add")["action"] == "migrate"


OWN_CONFLICT = """
@router.get("/names")
def names(db: Session = Depends(get_db_session)):
    return [[i.name for i in u.items] for u in QUERY]
"""


@pytest.mark.parametrize("query", [
    "db.query(User).options(lazyload(User.items), selectinload(User.items)).all()",
    "db.scalars(select(User).options(selectinload(User.items)).options(lazyload(User.items))).all()",
])
def test_a_routes_own_query_in_conflict_blocks_and_gets_no_option_added(cli, service, query):
    head = "from sqlalchemy.orm import lazyload, selectinload\n"
    root = service({"models.py": MODELS, SUBSYSTEM: routes(head, OWN_CONFLICT.replace("QUERY", query))})
    before = read(root, SUBSYSTEM)
    found = handler(apply(cli, root), "names")
    assert found["action"] == "blocked", found
    (reason,) = [r for r in found["reasons"] if "both eager-loads and leaves lazy `items`" in r]
    assert "which SQLAlchemy refuses whatever the order of the options" in reason, reason
    # its own fix, not AM247's "run the tool with the models under PATH"
    assert "under PATH" not in reason, reason
    assert reason.endswith(
        "on the AsyncSession; fix: keep one loader option for `items` in that query (`selectinload` to read it "
        "here), then run phase two again"
    ), reason
    assert read(root, SUBSYSTEM) == before


WILDCARDS = """
from sqlalchemy.orm import lazyload, selectinload

with Sync() as s:
    s.add(Item(name="pen", owner_id=1))
    s.commit()
found = []
for options in ([lazyload("*"), selectinload(User.items)], [lazyload("*"), selectinload("*")],
                [selectinload("*"), lazyload("*")]):
    with Sync() as s:
        user = s.scalars(select(User).options(*options).where(User.id == 1)).one()
        found.append("items" not in inspect(user).unloaded)
print(json.dumps(found))
"""


def test_the_premise_a_named_option_beats_wildcards_and_the_last_wildcard_wins(service):
    root = _service(service, "selectinload(User.items)")
    assert serve(root, "sqlite", "from sqlalchemy import inspect\n" + WILDCARDS) == [True, True, False]


@pytest.mark.parametrize(("options", "credited"), [
    ('lazyload("*"), selectinload(User.items)', True),
    ('lazyload("*"), selectinload("*")', True),
    ('selectinload("*"), lazyload("*")', False),
])
def test_wildcards_on_a_held_chain_are_judged_as_sqlalchemy_applies_them(cli, service, options, credited):
    root = _service(service, options)
    document = apply(cli, root)
    found = handler(document, "users")
    assert found["action"] == ("migrate" if credited else "blocked"), found
    if credited:
        assert serve(root, "sqlite", """
            client.post("/items", params={"name": "pen", "owner_id": 1})
            print(json.dumps(client.get("/users").json()))
        """) == [["pen"], []]
    else:
        assert any("reads User.items, which the query at line 18 leaves to load on first read by its own" in reason
                   for reason in found["reasons"]), found["reasons"]
    ast.parse(read(root, "repository.py"))
