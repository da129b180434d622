"""Phase two through a repository built from the Session a method is handed: a factory method
(`self.make_repo(db)` returning `ItemRepo(db)`), and a factory attribute typed
`Callable[[Session], ItemRepo]`, which is a callable returning an ItemRepo, never one. The
migrated routes are RUN and the rows they write read back.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from test_phase2_objects import apply_objects
from test_phase2_rules import handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service
SUBSYSTEM = "api/items.py"

REPO = """
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Item


class ItemRepo:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, name: str, owner_id: int) -> Item:
        item = Item(name=name, owner_id=owner_id)
        self.db.add(item)
        self.db.commit()
        return item

    def count(self) -> int:
        return self.db.scalar(select(func.count(Item.id)))
"""
FACTORY_METHOD = REPO + '''

class ItemService:
    def make_repo(self, db: Session) -> ItemRepo:
        return ItemRepo(db)

    def add(self, db: Session, name: str) -> int:
        repo = self.make_repo(db)
        repo.add(name, 1)
        return repo.count()


service_instance = ItemService()
'''
FACTORY_ATTRIBUTE = REPO + '''

class ItemService:
    def __init__(self, make_repo: Callable[[Session], ItemRepo] = ItemRepo) -> None:
        self.make_repo = make_repo

    def add(self, db: Session, name: str) -> int:
        repo = self.make_repo(db)
        repo.add(name, 1)
        return repo.count()


service_instance = ItemService()
'''
ROUTES = """
from repos import service_instance


@router.post("/items")
def add_item(name: str, db: session_dependency):
    return {"count": service_instance.add(db, name)}
"""
CHECK = """
    made = [client.post("/items", params={"name": n}).json() for n in ("a", "b")]
    with Sync() as s:
        rows = [(i.name, i.owner_id) for i in s.scalars(select(Item).order_by(Item.id))]
    print(json.dumps({"made": made, "rows": rows}))
"""
EXPECTED = {"made": [{"count": 1}, {"count": 2}], "rows": [["a", 1], ["b", 1]]}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("annotated", [True, False], ids=["annotated", "unannotated"])
def test_a_factory_method_building_the_repository_from_the_session_moves(cli, service, kind, annotated):
    repos = FACTORY_METHOD if annotated else FACTORY_METHOD.replace("db: Session) -> ItemRepo:", "db: Session):")
    root = service({"repos.py": repos, SUBSYSTEM: routes(ROUTES)})
    assert serve(root, kind, CHECK) == EXPECTED
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")["reasons"]
    text = read(root, "repos.py")
    assert "        repo = await self.make_repo(db)\n        await repo.add(name, 1)\n        return await repo.count()" in text
    assert serve(root, kind, CHECK) == EXPECTED


FACTORY_SHAPES = {
    "default": FACTORY_ATTRIBUTE,
    "handed": FACTORY_ATTRIBUTE.replace(" = ItemRepo) -> None:", ") -> None:").replace(
        "service_instance = ItemService()", "service_instance = ItemService(ItemRepo)"
    ),
    "returned": FACTORY_ATTRIBUTE.replace(
        "service_instance = ItemService()",
        "def repo_factory() -> Callable[..., ItemRepo]:\n    return ItemRepo\n\n\n"
        "service_instance = ItemService(repo_factory())",
    ).replace(" = ItemRepo) -> None:", ") -> None:"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", sorted(FACTORY_SHAPES))
def test_a_factory_attribute_typed_callable_is_no_repository(cli, service, kind, shape):
    root = service({"repos.py": FACTORY_SHAPES[shape], SUBSYSTEM: routes(ROUTES)})
    assert serve(root, kind, CHECK) == EXPECTED
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")["reasons"]
    assert "        await repo.add(name, 1)\n        return await repo.count()" in read(root, "repos.py")
    assert serve(root, kind, CHECK) == EXPECTED


MAKER_HELPER = """
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Item


def add_named(name: str, make: Callable[[], Session] = database_sessionmaker) -> int:
    with make() as s:
        s.add(Item(name=name, owner_id=1))
        s.commit()
        return s.scalar(select(func.count(Item.id)))
"""
MAKER_ROUTES = """
from helpers import add_named


@router.post("/items")
def add_item(name: str, db: session_dependency):
    return {"count": add_named(name)}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_session_factory_typed_callable_is_no_session_parameter(cli, service, kind):
    root = service({"helpers.py": MAKER_HELPER, SUBSYSTEM: routes(MAKER_ROUTES)})
    assert serve(root, kind, CHECK) == EXPECTED
    document = apply_objects(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked", found
    assert "does Session work on `with make() as s -> s.commit()`, a Session it does not receive" in found["reasons"][0]
    assert serve(root, kind, CHECK) == EXPECTED


def test_a_callable_declaration_is_no_instance_of_what_it_returns():
    """`Callable[..., ItemRepo]` is a callable returning an ItemRepo, and `Callable[[], Session]`
    one returning a Session: the flow reads neither as the instance, nor the parameter as a Session."""
    from async_migrate.codemods import astcollect
    from async_migrate.codemods.project import Project

    source = REPO + '''

def factory() -> Callable[..., ItemRepo]:
    return ItemRepo


def declared() -> ItemRepo:
    return make()


def use(make: Callable[[], Session], repo: ItemRepo) -> None:
    built = factory()
'''
    project = Project([astcollect.collect("repos.py", source, "repos")])
    flow = project.flow
    assert {(v.kind, v.target) for v in flow.returns(("repos", "factory"))} == {("class", "repos.ItemRepo")}
    assert {(v.kind, v.target) for v in flow.returns(("repos", "declared"))} == {("instance", "repos.ItemRepo")}
    params = {p.name: p for p in project.modules["repos"].functions[-1].params}
    assert project.declared_session(params["make"]) is None
    env = flow.env(("repos", "use"))
    assert {v.kind for v in env["make"]} == {"factory"}  # a session factory, not a Session
    assert {(v.kind, v.target) for v in env["repo"]} == {("instance", "repos.ItemRepo")}
    assert {(v.kind, v.target) for v in env["built"]} == {("class", "repos.ItemRepo")}


VARIANTS = {
    "static": FACTORY_METHOD.replace("    def make_repo(self, db: Session)", "    @staticmethod\n    def make_repo(db: Session)"),
    "chained": FACTORY_METHOD.replace("        repo = self.make_repo(db)\n        repo.add(name, 1)\n        return repo.count()",
                                      "        self.make_repo(db).add(name, 1)\n        return self.make_repo(db).count()"),
    "held": FACTORY_METHOD.replace("class ItemService:\n", "class ItemService:\n    def __init__(self, db: Session) -> None:\n        self.db = db\n\n").replace(
        "    def add(self, db: Session, name: str) -> int:\n        repo = self.make_repo(db)",
        "    def add(self, name: str) -> int:\n        repo = self.make_repo(self.db)").replace("service_instance = ItemService()\n", ""),
    "function": REPO + "\n\ndef make_repo(db: Session) -> ItemRepo:\n    return ItemRepo(db)\n",
}
VARIANT_ROUTES = {
    "held": """
from repos import ItemService


@router.post("/items")
def add_item(name: str, db: session_dependency):
    return {"count": ItemService(db).add(name)}
""",
    "function": """
from repos import make_repo


@router.post("/items")
def add_item(name: str, db: session_dependency):
    repo = make_repo(db)
    repo.add(name, 1)
    return {"count": repo.count()}
""",
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_factory_in_other_shapes_moves_and_writes(cli, service, variant):
    """A static factory, a factory called again for each use, one handed the Session its service
    holds, and a module-level factory function: each moves, and the rows are written."""
    root = service({"repos.py": VARIANTS[variant], SUBSYSTEM: routes(VARIANT_ROUTES.get(variant, ROUTES))})
    assert serve(root, "sqlite", CHECK) == EXPECTED
    document = apply_objects(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")["reasons"]
    assert serve(root, "sqlite", CHECK) == EXPECTED
