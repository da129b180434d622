"""Phase two through a `typing.Protocol` typing a service's repository, proved by running.

A service declares what it needs of the repository as a Protocol (`ItemStore` with `add` and
`names`). Once the repository's methods become `async def` and the service awaits them, the
Protocol's declarations of exactly those methods become `async def` too, when every function
typed with it migrates: left synchronous, the migrated service fails its type check. Where code
that stays synchronous is typed with it too, it is left as it is, with a follow-up.
"""

from __future__ import annotations

import ast

import pytest
import test_phase2_soundness
from test_phase2_interface_bases import ADMIN, CHECK, EXPECTED, REPOS, ROUTES, SUBSYSTEM, TWO_ROUTERS
from test_phase2_objects import apply_objects, methods_of
from test_phase2_rules import handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service

SERVICES = """
from typing import Protocol

from models import Item


class ItemStore(Protocol):
    def get(self, id_: int) -> Item | None: ...

    def add(self, obj: Item) -> Item: ...

    def names(self) -> list[str]: ...


class ItemService:
    def __init__(self, repo: ItemStore) -> None:
        self.repo = repo

    def create(self, name: str, owner_id: int) -> int:
        return self.repo.add(Item(name=name.strip(), owner_id=owner_id)).id

    def names(self) -> list[str]:
        return self.repo.names()
"""
BEFORE = """class ItemStore(Protocol):
    def get(self, id_: int) -> Item | None: ...

    def add(self, obj: Item) -> Item: ...

    def names(self) -> list[str]: ..."""
AFTER = """class ItemStore(Protocol):
    def get(self, id_: int) -> Item | None: ...

    async def add(self, obj: Item) -> Item: ...

    async def names(self) -> list[str]: ..."""


def protocol_text(root) -> str:  # type: ignore[no-untyped-def]
    text = read(root, "services.py")
    for node in ast.parse(text).body:
        if isinstance(node, ast.ClassDef) and node.name == "ItemStore":
            segment = ast.get_source_segment(text, node)
            assert segment is not None
            return segment
    raise AssertionError("no ItemStore in services.py")


def follow_ups(document) -> list[str]:  # type: ignore[no-untyped-def]
    found: list[str] = []

    def walk(value) -> None:  # type: ignore[no-untyped-def]
        if isinstance(value, dict):
            found.extend(value.get("follow_ups", []))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_a_protocol_typing_only_migrating_code_declares_the_migrated_methods_async(cli, service, kind):
    root = service({"repos.py": REPOS, "services.py": SERVICES, SUBSYSTEM: routes(ROUTES)})
    assert protocol_text(root) == BEFORE
    document = apply_objects(cli, root)
    for route in ("add_item", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert methods_of(root, "services.py", "ItemService") == {"__init__": False, "create": True, "names": True}
    # `get` is declared but no migrated code reaches it: it stays as the repository has it.
    assert protocol_text(root) == AFTER
    assert methods_of(root, "services.py", "ItemStore") == {"get": False, "add": True, "names": True}
    assert not [f for f in follow_ups(document) if "ItemStore" in f]
    assert serve(root, kind, CHECK) == EXPECTED


@pytest.mark.parametrize("kind", KINDS)
def test_a_protocol_moves_with_a_service_around_a_parallel_repository(cli, service, kind):
    # The repository gets a parallel async class (a synchronous route uses UserRepository); the
    # service, typed with ItemStore alone, moves in place and awaits it: the Protocol follows.
    root = service({
        "repos.py": REPOS, "services.py": SERVICES.replace("from models import Item\n",
                                                           "from models import Item\nfrom repos import ItemRepository\n"),
        SUBSYSTEM: routes(ROUTES), "api/admin.py": ADMIN, "main.py": TWO_ROUTERS,
    })
    document = apply_objects(cli, root)
    for route in ("add_item", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert protocol_text(root) == AFTER
    script = CHECK.replace("    print(", "    admin = client.get('/admin/users/2').json()\n    print(").replace(
        '"rows": rows}', '"rows": rows, "admin": admin}'
    )
    assert serve(root, kind, script) == {**EXPECTED, "admin": {"name": "Bob"}}


# ------------------------------------------------------------------ near miss

# Synchronous code typed with the Protocol: made async, ItemStore would no longer describe the
# synchronous implementations such code is handed.
SYNC_USER = """

def describe(store: ItemStore) -> str:
    return type(store).__name__
"""


@pytest.mark.parametrize("kind", KINDS[:1])
def test_near_miss_a_protocol_also_typing_code_that_stays_sync_is_left_with_a_follow_up(cli, service, kind):
    root = service({"repos.py": REPOS, "services.py": SERVICES + SYNC_USER, SUBSYSTEM: routes(ROUTES)})
    document = apply_objects(cli, root)
    for route in ("add_item", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert protocol_text(root) == BEFORE
    assert "def describe(store: ItemStore) -> str:\n    return type(store).__name__" in read(root, "services.py")
    notes = [f for f in follow_ups(document) if "ItemStore" in f]
    assert notes == [
        "the Protocol ItemStore still declares add, names synchronous, which the migrated code now awaits; "
        "it is left as it is because code that stays synchronous is typed with it too (describe): "
        "type the migrated code with an async Protocol of its own"
    ], follow_ups(document)
    assert serve(root, kind, CHECK) == EXPECTED


# ------------------------------------------- a Protocol the repository implements by its methods

# The domain-driven shape: the repository is declared as a Protocol that the SQLAlchemy class
# implements without naming it, a dependency returns it declared with the Protocol, an `Annotated`
# alias injects it, and a router that stays synchronous injects the same alias, so the repository
# gets a parallel async class. Its copy does not implement the synchronous Protocol: the Protocol
# gets an async copy of its own, which the twin dependency and alias are declared with.
DOMAIN_REPOS = """
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item


class ItemRepo(Protocol):
    def add(self, obj: Item) -> Item: ...

    def names(self) -> list[str]: ...


class SqlItemRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: Item) -> Item:
        self.session.add(obj)
        self.session.commit()
        return obj

    def names(self) -> list[str]:
        return list(self.session.scalars(select(Item.name).order_by(Item.id)))
"""
DOMAIN_DEPS = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item
from repos import ItemRepo, SqlItemRepo


def get_item_repo(db: Session = Depends(get_db_session)) -> ItemRepo:
    return SqlItemRepo(db)


ItemRepoDep = Annotated[ItemRepo, Depends(get_item_repo)]


class ItemService:
    def __init__(self, repo: ItemRepo) -> None:
        self.repo = repo

    def create(self, name: str) -> int:
        return self.repo.add(Item(name=name.strip(), owner_id=1)).id


def get_item_service(repo: ItemRepoDep) -> ItemService:
    return ItemService(repo)


ItemServiceDep = Annotated[ItemService, Depends(get_item_service)]
"""
DOMAIN_ROUTES = """
from deps import ItemRepoDep, ItemServiceDep


@router.post("/items")
async def add_item(name: str, service: ItemServiceDep):
    return {"id": service.create(name)}


@router.get("/items")
async def item_names(repo: ItemRepoDep):
    return repo.names()
"""
DOMAIN_ADMIN = """
from fastapi import APIRouter

from deps import ItemRepoDep, ItemServiceDep

router = APIRouter()


@router.get("/admin/names")
def admin_names(repo: ItemRepoDep):
    return repo.names()


@router.post("/admin/items")
def admin_add(name: str, service: ItemServiceDep):
    return {"id": service.create(name)}
"""
DOMAIN_FAKE = """
from models import Item


class FakeItemRepo:
    def __init__(self) -> None:
        self.items: list[Item] = []

    def add(self, obj: Item) -> Item:
        self.items.append(obj)
        return obj

    def names(self) -> list[str]:
        return [i.name for i in self.items]
"""

DOMAIN_FAKE_TEST = """
from fastapi.testclient import TestClient

from deps import get_item_repo
from main import app
from tests.fakes import FakeItemRepo


def test_names_on_the_fake():
    fake = FakeItemRepo()
    app.dependency_overrides[get_item_repo] = lambda: fake
    client = TestClient(app)
    client.post("/items", params={"name": "x"})
    assert client.get("/items").json() == ["x"]
"""


def domain_service(service):  # type: ignore[no-untyped-def]
    return service({
        "repos.py": DOMAIN_REPOS, "deps.py": DOMAIN_DEPS, SUBSYSTEM: routes(DOMAIN_ROUTES),
        "api/admin.py": DOMAIN_ADMIN, "main.py": TWO_ROUTERS,
    })


@pytest.mark.parametrize("kind", KINDS)
def test_a_protocol_implemented_by_methods_alone_gets_an_async_copy_beside_the_parallel_repository(
    cli, service, kind
):
    root = domain_service(service)
    document = apply_objects(cli, root)
    for route in ("add_item", "item_names"):
        assert handler(document, route)["action"] == "migrate", handler(document, route)
    assert methods_of(root, "repos.py", "ItemRepo") == {"add": False, "names": False}
    assert methods_of(root, "repos.py", "ItemRepoAsync") == {"add": True, "names": True}
    assert methods_of(root, "repos.py", "SqlItemRepoAsync") == {"__init__": False, "add": True, "names": True}
    assert "class ItemRepoAsync(Protocol):" in read(root, "repos.py")
    deps = read(root, "deps.py")
    assert ") -> ItemRepoAsync:\n    return SqlItemRepoAsync(db)" in deps
    assert "ItemRepoDep_async = Annotated[ItemRepoAsync, Depends(get_item_repo_async)]" in deps
    # the service typed with the Protocol gets its parallel class, declared with the async copy
    assert "class ItemServiceAsync:\n    def __init__(self, repo: ItemRepoAsync) -> None:" in deps
    assert "ItemServiceDep_async = Annotated[ItemServiceAsync, Depends(get_item_service_async)]" in deps
    assert methods_of(root, "deps.py", "ItemService") == {"__init__": False, "create": False}
    assert "def admin_names(repo: ItemRepoDep):\n    return repo.names()" in read(root, "api/admin.py")
    assert not [f for f in follow_ups(document) if "ItemRepo" in f], follow_ups(document)
    # check reads the migrated routes through the async copy alone, and the sync ones are no findings
    assert cli.json("check", root)["findings"] == []
    script = CHECK.replace(
        "    print(", "    admin = client.get('/admin/names').json()\n"
        "    added = client.post('/admin/items', params={'name': 'c'}).json()\n    print("
    ).replace('"rows": rows}', '"rows": rows, "admin": admin, "added": added}')
    assert serve(root, kind, script) == {**EXPECTED, "admin": ["a", "b"], "added": {"id": 3}}


def test_near_miss_a_protocol_a_test_fake_implements_too_blocks_naming_both(cli, service):
    root = domain_service(service)
    (root / "tests").mkdir()
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "fakes.py").write_text(DOMAIN_FAKE)
    (root / "tests" / "test_fake.py").write_text(DOMAIN_FAKE_TEST)
    document = apply_objects(cli, root)
    for route in ("add_item", "item_names"):
        found = handler(document, route)
        assert found["action"] == "blocked", found
        assert any(
            "may run any of FakeItemRepo." in reason and "(tests/fakes.py), SqlItemRepo." in reason
            and "(repos.py), and the analysis cannot tell which one runs here" in reason
            for reason in found["reasons"]
        ), found["reasons"]
    assert methods_of(root, "repos.py", "ItemRepo") == {"add": False, "names": False}
    assert "ItemRepoAsync" not in read(root, "repos.py")


def test_implementations_of_one_name_are_named_in_the_order_of_their_files(cli, service):
    # Two fakes named alike: the reason lists them by file, the same in every run whatever the
    # process's string hashing (it once followed the order of a set).
    root = domain_service(service)
    (root / "tests").mkdir()
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "fakes.py").write_text(DOMAIN_FAKE)
    (root / "tests" / "more_fakes.py").write_text(DOMAIN_FAKE)
    (root / "tests" / "test_fake.py").write_text(
        DOMAIN_FAKE_TEST + "\nfrom tests.more_fakes import FakeItemRepo as Other\n\nassert Other\n"
    )
    document = apply_objects(cli, root)
    reasons = [r for r in handler(document, "add_item")["reasons"] if "may run any of" in r]
    assert reasons and all(
        "FakeItemRepo.add (tests/fakes.py), FakeItemRepo.add (tests/more_fakes.py), SqlItemRepo.add (repos.py)" in r
        for r in reasons
    ), reasons
