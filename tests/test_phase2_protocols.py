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
