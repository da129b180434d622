"""Phase two through a repository whose constructor takes the Session with no annotation
(`def __init__(self, db): self.db = db`), proved by running.

Phase one and check read such a parameter as a Session because every caller hands it one
(`received.py`, `Project.session_params`). Phase two moves the class exactly as when the
parameter is declared `db: Session`: the rewrite annotates it `AsyncSession`, so the instance's
attribute says what it holds. A construction handing it anything the analysis cannot type as a
Session blocks the class with the reason, naming the class, the parameter and that caller,
never a self-check message.

As in test_phase2_soundness: migrated with `phase2 --apply`, then RUN with TestClient, and the
database read back through a separate synchronous session.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

REPO = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Item


class ItemRepo:
    def __init__(self, INIT_PARAM):
        self.db = db

    def names(self) -> list[str]:
        return list(self.db.scalars(select(Item.name).order_by(Item.id)))

    def add(self, name: str) -> Item:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item

    def count(self) -> int:
        return self.db.scalar(select(func.count()).select_from(Item))
"""
DATACLASS_REPO = """
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from models import Item


@dataclass
class ItemRepo:
    db: Any

    def names(self) -> list[str]:
        return list(self.db.scalars(select(Item.name).order_by(Item.id)))

    def add(self, name: str) -> Item:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item

    def count(self) -> int:
        return self.db.scalar(select(func.count()).select_from(Item))
"""
ROUTES = (
    """
    from repo import ItemRepo


    def get_repo(db: session_dependency):
        return ItemRepo(db)
    """,
    """
    @router.get("/items")
    async def list_items(ROUTE_PARAM):
        return repo.names()


    @router.post("/items")
    async def add_item(name: str, ROUTE_PARAM):
        item = repo.add(name)
        return {"id": item.id, "count": repo.count()}
    """,
)
RUN = """
    created = [client.post("/items", params={"name": n}).json() for n in ("a", "b")]
    names = client.get("/items").json()
    with Sync() as s:
        rows = list(s.scalars(select(Item.name).order_by(Item.id)))
    print(json.dumps({"created": created, "names": names, "rows": rows}))
"""
WRITTEN = {"created": [{"id": 1, "count": 1}, {"id": 2, "count": 2}], "names": ["a", "b"], "rows": ["a", "b"]}

TYPED = "repo: ItemRepo = Depends(get_repo)"
UNTYPED = "repo=Depends(get_repo)"


def tree(service, init: str = "db", route: str = TYPED, repo: str = REPO, extra: str = ""):  # type: ignore[no-untyped-def]
    return service({
        "repo.py": repo.replace("INIT_PARAM", init) + extra,
        SUBSYSTEM: routes(*(part.replace("ROUTE_PARAM", route) for part in ROUTES)),
    })


def _migrates(document: dict) -> None:
    for route in ("list_items", "add_item"):
        found = handler(document, route)
        assert found["action"] == "migrate", found["reasons"]


@pytest.mark.parametrize("kind", KINDS)
def test_an_unannotated_constructor_and_route_parameter_migrate_and_the_routes_write(cli, service, kind):
    root = tree(service, route=UNTYPED)
    before = serve(root, kind, RUN)
    document = apply(cli, root)
    _migrates(document)
    text = read(root, "repo.py")
    # the constructor's parameter now says what it holds; the methods await the held AsyncSession
    assert "    def __init__(self, db: AsyncSession):\n        self.db = db\n" in text, text
    assert "from sqlalchemy.ext.asyncio import AsyncSession" in text, text
    assert "await self.db.commit()" in text and "async def names(self)" in text, text
    routes_text = read(root, SUBSYSTEM)
    assert "async def list_items(repo=Depends(get_repo)):\n    return await repo.names()" in routes_text, routes_text
    after = serve(root, kind, RUN)
    assert after == before == WRITTEN


@pytest.mark.parametrize(
    ("init", "route"),
    [("db: Session", TYPED), ("db", TYPED), ("db: Session", UNTYPED)],
    ids=["annotated", "unannotated-constructor", "unannotated-route-parameter"],
)
def test_each_shape_moves_as_the_annotated_one(cli, service, init, route):
    root = tree(service, init=init, route=route)
    document = apply(cli, root)
    _migrates(document)
    assert "    def __init__(self, db: AsyncSession):\n" in read(root, "repo.py")
    assert not any("self-check" in r for h in document["handlers"] for r in h["reasons"])
    assert serve(root, "sqlite", RUN) == WRITTEN


def test_a_dataclass_field_annotated_any_moves_as_a_session_field(cli, service):
    root = tree(service, repo=DATACLASS_REPO)
    document = apply(cli, root)
    _migrates(document)
    text = read(root, "repo.py")
    assert "class ItemRepo:\n    db: AsyncSession\n" in text, text
    assert "from typing import Any" not in text, text
    assert serve(root, "sqlite", RUN) == WRITTEN


OTHER_CALLER = """

def get_state_repo(request: Request):
    return ItemRepo(request.state.db)
"""


def test_a_caller_handing_something_unknown_blocks_naming_the_class_parameter_and_caller(cli, service):
    root = tree(service, repo="from fastapi import Request\n" + dedent(REPO), extra=OTHER_CALLER)
    original = read(root, "repo.py")
    document = apply(cli, root)
    for route in ("list_items", "add_item"):
        found = handler(document, route)
        assert found["action"] == "blocked", found
        reasons = " ".join(found["reasons"])
        assert "self-check" not in reasons, reasons
        assert (
            "ItemRepo.__init__ keeps its parameter `db`, which has no annotation, in `self.db`; phase two reads it "
            "as a Session because it receives the Session `db` from api.items.get_repo, but repo.get_state_repo "
            "hands it `request.state.db`, which the analysis cannot type as a Session: annotate the parameter "
            "(`db: Session`) if it always receives one"
        ) in reasons, reasons
    assert read(root, "repo.py") == original


def test_near_miss_the_same_caller_with_the_parameter_annotated_is_no_reason_to_block(cli, service):
    # Declared a Session, the parameter holds one whatever that caller hands it: the class moves
    # as a parallel async class, the original left to the caller the routes do not reach.
    root = tree(service, init="db: Session", repo="from fastapi import Request\n" + dedent(REPO), extra=OTHER_CALLER)
    document = apply(cli, root)
    _migrates(document)
    assert serve(root, "sqlite", RUN) == WRITTEN


def test_a_method_of_an_attribute_of_self_is_no_method_of_self() -> None:
    # `self.db.add(item)` on what an unannotated, unread constructor parameter holds may be any
    # project method named `add` (a generic router's model), but never the class's own.
    from async_migrate.codemods.astcollect import collect
    from async_migrate.codemods.project import Project

    project = Project([collect("repo.py", dedent("""
        class ItemRepo:
            def __init__(self, db):
                self.db = db

            def add(self, item):
                self.db.add(item)


        class Basket:
            def add(self, item):
                return item
    """))])
    fid = next(f for f, (_, function) in project.functions.items() if function.qualname == "ItemRepo.add")
    call = next(c for c in project.functions[fid][1].calls if (c.func or "").endswith(".add"))
    targets, _ = project.flow.targets(fid, call)
    assert [project.functions[t][1].qualname for t in targets] == ["Basket.add"]
