"""A generator dependency sharing the route's Session becomes an async generator (issue 11): its
return annotation follows under every spelling of the standard library's iterators, as a twin and
where it moves in place; `Generator[X, S, R]` with a return type R has no async form and blocks."""

from __future__ import annotations

import ast
import json

import pytest
from test_phase2_mixed_routes import ACCOUNT, SUBSYSTEM, SYNC_ENGINE, SYNC_HEAD, routes, serve, service  # noqa: F401
from test_phase2_rules import apply, function, handler, read

RENAME_ME = """
    @router.put("/me")
    def rename_me(name: str, user: User = Depends(get_account), db: Session = Depends(get_db_session)):
        user.name = name
        db.add(Item(name="renamed", owner_id=user.id))
        return {"id": user.id}
"""
HEADER = "async def get_account_async(db: AsyncSession = Depends(get_async_db_session)) -> {}:"


@pytest.mark.parametrize(
    ("imported", "before", "after"),
    [
        ("import typing", "typing.Iterator[User]", "typing.AsyncIterator[User]"),
        ("import typing", "typing.Iterable[User]", "typing.AsyncIterable[User]"),
        ("import typing", "typing.Generator[User, None, None]", "typing.AsyncGenerator[User, None]"),
        ("import typing as t", "t.Iterator[User]", "t.AsyncIterator[User]"),
        ("import typing as t", "t.Generator[User, None, None]", "t.AsyncGenerator[User, None]"),
        ("import collections.abc", "collections.abc.Iterator[User]", "collections.abc.AsyncIterator[User]"),
        ("from typing import Iterable", "Iterable[User]", "AsyncIterable[User]"),
    ],
)
def test_a_generator_dependency_twin_keeps_the_spelling_of_its_annotation(cli, service, imported, before, after):  # noqa: F811
    # Only a bare `Iterator` was rewritten: `typing.Iterator[User]` stayed on an async generator.
    root = service({
        "db/engine.py": SYNC_ENGINE,
        "core/deps.py": "",
        SUBSYSTEM: routes(ACCOUNT.replace("Iterator[User]", before), RENAME_ME, head=f"\n{imported}\n" + SYNC_HEAD),
    })
    document = apply(cli, root)
    assert handler(document, "rename_me")["action"] == "migrate", handler(document, "rename_me")
    twin = function(root, SUBSYSTEM, "get_account_async")
    assert twin.startswith(HEADER.format(after)), twin
    source = read(root, SUBSYSTEM)
    ast.parse(source)
    qualified = "." in before
    assert ("from collections.abc import" in source) is (not qualified), source


def test_near_miss_a_generator_dependency_with_a_return_type_stays_blocked(cli, service):  # noqa: F811
    # An async generator returns nothing: `Generator[User, None, int]` has no async form.
    root = service({
        "db/engine.py": SYNC_ENGINE,
        "core/deps.py": "",
        SUBSYSTEM: routes(
            ACCOUNT.replace("Iterator[User]", "typing.Generator[User, None, int]"), RENAME_ME,
            head="\nimport typing\n" + SYNC_HEAD,
        ),
    })
    found = handler(cli.json("phase2", root, "--subsystem", SUBSYSTEM), "rename_me")
    assert found["action"] == "blocked" and "AM216" in found["codes"], found
    assert "is a generator" in " ".join(found["reasons"]), found


def test_near_miss_a_class_named_iterator_elsewhere_is_left_as_written(cli, service):  # noqa: F811
    # Not the standard library's: there is no `AsyncIterator` beside it to write.
    root = service({
        "db/engine.py": SYNC_ENGINE,
        "core/deps.py": "",
        "core/kinds.py": "from typing import Generic, TypeVar\n\nT = TypeVar('T')\n\n\nclass Iterator(Generic[T]):\n    pass\n",
        SUBSYSTEM: routes(
            ACCOUNT.replace("Iterator[User]", "kinds.Iterator[User]"), RENAME_ME,
            head="\nfrom core import kinds\n" + SYNC_HEAD,
        ),
    })
    document = apply(cli, root)
    assert handler(document, "rename_me")["action"] == "migrate", handler(document, "rename_me")
    assert function(root, SUBSYSTEM, "get_account_async").startswith(HEADER.format("kinds.Iterator[User]"))


REPO = """
class ItemRepo:
    def __init__(self, db: Session):
        self.db = db

    def add(self, name: str, owner_id: int) -> None:
        self.db.add(Item(name=name, owner_id=owner_id))


def get_repo(db: Session = Depends(get_db_session)) -> typing.Generator[ItemRepo, None, None]:
    repo = ItemRepo(db)
    try:
        yield repo
    finally:
        # after the route: what it added through the repository is written here
        db.commit()
"""


def test_a_generator_dependency_moving_in_place_gets_the_async_annotation_and_runs(cli, service):  # noqa: F811
    # Used only by migrated routes, it became `async def` where it stands, its annotation still
    # `Generator[ItemRepo, None, None]`: a coroutine function annotated as a synchronous generator.
    root = service({
        "db/engine.py": SYNC_ENGINE,
        "core/deps.py": "",
        SUBSYSTEM: routes(REPO, """
            @router.post("/items")
            def add_item(name: str, repo: ItemRepo = Depends(get_repo), db: Session = Depends(get_db_session)):
                repo.add(name, 1)
                db.add(Item(name=name + "-copy", owner_id=2))
                return {"name": name}
        """, head="\nimport typing\n" + SYNC_HEAD),
    })
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", json.dumps(handler(document, "add_item"))
    source = read(root, SUBSYSTEM)
    ast.parse(source)
    assert "get_repo_async" not in source, source
    assert function(root, SUBSYSTEM, "get_repo").startswith(
        "async def get_repo(db: AsyncSession = Depends(get_async_db_session)) -> typing.AsyncGenerator[ItemRepo, None]:"
    ), function(root, SUBSYSTEM, "get_repo")
    result = serve(root, "sqlite", """
        response = client.post("/items", params={"name": "pen"})
        with Sync() as s:
            items = [(i.name, i.owner_id) for i in s.scalars(select(Item))]
        print(json.dumps({"status": response.status_code, "items": items}))
    """)
    assert result == {"status": 200, "items": [["pen", 1], ["pen-copy", 2]]}
