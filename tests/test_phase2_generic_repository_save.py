"""A generic repository's `save(self, obj: M) -> M` returning the object it committed, proved by running.

`self.db.add(obj); self.db.commit(); return obj` on a sessionmaker that expires on commit: the
synchronous route reads the object back reloaded (a server default included). The parameter is
declared with a TypeVar bound to the mapped base, so it is one object the Session holds: phase
two adds `await self.db.refresh(obj)` after the commit, as it does for an object the method
loads itself. It blocked every route of the repository (AM259, "`obj` may be an object the
Session loaded"), `list` included. The repository is shared with a job, so the routes use its
parallel async class, and the reason names the method there (`BaseRepositoryAsync.list`).
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler
from test_phase2_soundness import ENGINE, KINDS, MODELS, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

REPOSITORY = """
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Base, Item

M = TypeVar("M", bound=Base)


class BaseRepository(Generic[M]):
    model: type[M]

    def __init__(self, db: Session) -> None:
        self.db = db

    def list(self) -> list[M]:
        return list(self.db.scalars(select(self.model).order_by(self.model.id)))

    def save(self, obj: {annotation}) -> M:
        self.db.add(obj)
        self.db.commit()
        return obj


class ItemRepository(BaseRepository[Item]):
    model = Item
"""
JOB = """
from db.engine import database_sessionmaker
from repositories import ItemRepository


def names() -> list[str]:
    with database_sessionmaker() as db:
        return [item.name for item in ItemRepository(db).list()]
"""
ROUTES = """
from repositories import ItemRepository


def get_items(db: session_dependency) -> ItemRepository:
    return ItemRepository(db)


@router.post("/items")
def create_item(name: str, repo: ItemRepository = Depends(get_items)):
    item = repo.save(Item(name=name, owner_id=1))
    return {"id": item.id, "label": item.label}


@router.get("/items")
def list_items(repo: ItemRepository = Depends(get_items)):
    return [item.name for item in repo.list()]
"""
SCRIPT = """
    created = client.post("/items", params={"name": "pen"}).json()
    listed = client.get("/items").json()
    with Sync() as s:
        names = sorted(s.scalars(select(Item.name)).all())
    print(json.dumps({"created": created, "listed": listed, "names": names}))
"""
EXPECTED = {"created": {"id": 1, "label": "new"}, "listed": ["pen"], "names": ["pen"]}


def _service(service, annotation: str = "M"):  # type: ignore[no-untyped-def]
    return service({
        # expires on commit: the synchronous read of `item.label` reloads the server default
        "db/engine.py": ENGINE.replace(", expire_on_commit=False", ""),
        "models.py": MODELS.replace(
            '    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))\n',
            '    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))\n'
            '    label: Mapped[str] = mapped_column(String(20), server_default="new")\n',
        ),
        "repositories.py": REPOSITORY.replace("{annotation}", annotation),
        "jobs.py": JOB,
        "api/items.py": routes(ROUTES),
    })


@pytest.mark.parametrize("kind", KINDS)
def test_the_committed_parameter_is_refreshed_and_the_routes_still_read_and_write(cli, service, kind):
    root = _service(service)
    assert serve(root, kind, SCRIPT) == EXPECTED
    document = apply(cli, root)
    for route in ("create_item", "list_items"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    listed = " ".join(handler(document, "list_items")["reasons"])
    assert "repositories.BaseRepositoryAsync.list (the async twin of BaseRepository.list)" in listed, listed
    copied = (root / "repositories.py").read_text()
    assert "        await self.db.commit()\n        await self.db.refresh(obj)\n        return obj" in copied
    assert serve(root, kind, SCRIPT) == EXPECTED


@pytest.mark.parametrize("annotation", ["object", "list[M]"])
def test_near_miss_a_parameter_not_declared_one_mapped_object_added_on_some_paths_still_blocks(
    cli, service, annotation
):
    # Added on every path, `Session.add` would show it is one mapped object whatever the
    # annotation says; behind an `if`, a refresh after the commit may find it outside the Session.
    root = _service(service, annotation)
    path = root / "repositories.py"
    text = path.read_text()
    guarded = text.replace("        self.db.add(obj)\n", "        if obj is not None:\n            self.db.add(obj)\n")
    assert guarded != text
    path.write_text(guarded)
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    blocked = handler(document, "create_item")
    assert blocked["action"] == "blocked" and "AM259" in blocked["codes"], blocked
