"""Phase two run subsystem after subsystem reuses the async twins an earlier run wrote (a copied
function, a parallel class's method): proved by running the migrated application.

- A twin reused as it is still carries out what the later run's plan says it does to it: the
  eager load a route's response model needs goes into the parallel class's method the route
  calls (`ItemRepositoryAsync.for_owner`), not into the synchronous original it no longer runs.
- A twin that no longer matches its synchronous original (the original gained a filter since the
  earlier run, or the twin was edited by hand) is not reused silently: the route calling it
  stays synchronous, blocked with a reason naming both definitions, and keeps its results.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import test_phase2_soundness
from phase2_models import user_item_models
from test_phase2_rules import apply, dedent, handler, read
from test_phase2_soundness import KINDS, routes, serve

service = test_phase2_soundness.service

MODELS = user_item_models('owner: Mapped["User"] = relationship()')
TWO_ROUTERS = """
from fastapi import FastAPI

from api import counts, listing

app = FastAPI()
app.include_router(counts.router)
app.include_router(listing.router)
"""
REPOSITORY = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item


class ItemRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_owner(self, owner_id: int) -> list[Item]:
        return list(self.session.scalars(select(Item).where(Item.owner_id == owner_id).order_by(Item.id)))


def items_for(db: Session, owner_id: int) -> list[Item]:
    return list(db.scalars(select(Item).where(Item.owner_id == owner_id).order_by(Item.id)))
"""
COUNTS = """
from repository import ItemRepository, items_for


@router.get("/count")
def count_items(owner_id: int, db: session_dependency) -> dict:
    return {"by_class": len(ItemRepository(db).for_owner(owner_id)), "by_function": len(items_for(db, owner_id))}
"""
LISTING = """
from pydantic import BaseModel, ConfigDict

from repository import ItemRepository, items_for


class OwnerBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner: OwnerBrief


@router.get("/by-class", response_model=list[ItemOut])
def list_by_class(owner_id: int, db: session_dependency) -> list[Item]:
    return ItemRepository(db).for_owner(owner_id)


@router.get("/by-function")
def list_by_function(owner_id: int, db: session_dependency) -> list[str]:
    return [item.name for item in items_for(db, owner_id)]
"""
SEED_AND_GET = """
with Sync() as s:
    s.add_all([Item(name="kept", owner_id=1), Item(name="archived", owner_id=1)])
    s.commit()
result = {}
for path in ("/by-class", "/by-function", "/count"):
    response = client.get(path, params={"owner_id": 1})
    result[path] = [response.status_code, response.json()]
print(json.dumps(result))
"""
CLAIMED_LOAD = re.compile(r"(\S+\.py):(\d+): adds the (?:eager load|`undefer`) of ([\w.]+) to the query in ([\w.]+),")


def assert_claims_written(root: Path, document: dict) -> None:
    """Every eager load a route's reasons say phase two adds is in the code written: at the line
    the reason names, inside the function it names, loading the attribute it names."""
    for found in document["handlers"]:
        if found["action"] != "migrate":
            continue
        for reason in found["reasons"]:
            for path, line, loaded, where in CLAIMED_LOAD.findall(reason):
                text = read(root, path)
                written = text.splitlines()[int(line) - 1]
                attribute = loaded.rpartition(".")[2]
                assert "load(" in written and attribute in written, (reason, written)
                qualname = where.partition(".")[2].split(".")
                assert _enclosing(text, int(line)) == qualname, (reason, _enclosing(text, int(line)))


def _enclosing(text: str, line: int) -> list[str]:
    import ast

    names: list[str] = []
    body = ast.parse(text).body
    while True:
        node = next((
            n for n in body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and n.lineno <= line <= (n.end_lineno or n.lineno)
        ), None)
        if node is None:
            return names
        names.append(node.name)
        body = node.body


def _app(service, repository: str = REPOSITORY) -> Path:  # type: ignore[no-untyped-def]
    return service({
        "models.py": MODELS,
        "repository.py": dedent(repository),
        "main.py": dedent(TWO_ROUTERS),
        "api/counts.py": routes(COUNTS),
        "api/listing.py": routes(LISTING),
    })


@pytest.mark.parametrize("kind", KINDS)
def test_the_eager_load_a_later_run_plans_goes_into_the_parallel_class_method_it_reuses(cli, service, kind):
    root = _app(service)
    assert handler(apply(cli, root, subsystem="api/counts.py"), "count_items")["action"] == "migrate"
    assert "class ItemRepositoryAsync:" in read(root, "repository.py")
    document = apply(cli, root, subsystem="api/listing.py")
    found = handler(document, "list_by_class")
    assert found["action"] == "migrate", found
    assert "in repository.ItemRepositoryAsync.for_owner," in " ".join(found["reasons"])
    assert_claims_written(root, document)
    text = read(root, "repository.py")
    # the synchronous original, still used by nobody migrating, is left as it was
    assert "Item.id)))\n\n\nclass ItemRepositoryAsync" in text, text
    assert serve(root, kind, SEED_AND_GET) == {
        "/by-class": [200, [{"name": "kept", "owner": {"name": "Ann"}}, {"name": "archived", "owner": {"name": "Ann"}}]],
        "/by-function": [200, ["kept", "archived"]],
        "/count": [200, {"by_class": 2, "by_function": 2}],
    }


def _drift(root: Path, function: str) -> None:
    """The synchronous original `function` learns to hide archived items; its twin is left as it was."""
    text = read(root, "repository.py")
    start = text.index(f"def {function}(")
    end = text.index("\n\n", start) if "\n\n" in text[start:] else len(text)
    body = text[start:end].replace(
        ".where(Item.owner_id == owner_id)", '.where(Item.owner_id == owner_id, Item.name != "archived")'
    )
    assert body != text[start:end]
    (root / "repository.py").write_text(text[:start] + body + text[end:], encoding="utf-8")


@pytest.mark.parametrize("kind", KINDS)
def test_a_function_twin_whose_original_changed_since_is_not_reused(cli, service, kind):
    root = _app(service)
    apply(cli, root, subsystem="api/counts.py")
    _drift(root, "items_for")
    twin = read(root, "repository.py")
    document = apply(cli, root, subsystem="api/listing.py")
    blocked = handler(document, "list_by_function")
    assert blocked["action"] == "blocked", blocked
    reasons = " ".join(blocked["reasons"])
    assert "phase two would reuse `repository.items_for_async` (repository.py:" in reasons, reasons
    assert "as the async twin of `repository.items_for` (repository.py:" in reasons, reasons
    assert "delete `items_for_async`" in reasons, reasons
    # the route not calling the stale twin still migrates, its eager load in the reused method
    assert handler(document, "list_by_class")["action"] == "migrate"
    assert_claims_written(root, document)
    assert "async def items_for_async" in twin and "def items_for_async" in read(root, "repository.py")
    result = serve(root, kind, SEED_AND_GET)
    assert result["/by-function"] == [200, ["kept"]]
    assert result["/by-class"] == [
        200, [{"name": "kept", "owner": {"name": "Ann"}}, {"name": "archived", "owner": {"name": "Ann"}}]
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_a_parallel_class_method_whose_original_changed_since_is_not_reused(cli, service, kind):
    root = _app(service)
    apply(cli, root, subsystem="api/counts.py")
    _drift(root, "for_owner")
    document = apply(cli, root, subsystem="api/listing.py")
    blocked = handler(document, "list_by_class")
    assert blocked["action"] == "blocked", blocked
    reasons = " ".join(blocked["reasons"])
    assert "phase two would reuse `repository.ItemRepositoryAsync.for_owner` (repository.py:" in reasons, reasons
    assert "as the async twin of `repository.ItemRepository.for_owner`" in reasons, reasons
    assert "delete `for_owner` from `ItemRepositoryAsync`" in reasons, reasons
    assert handler(document, "list_by_function")["action"] == "migrate"
    assert_claims_written(root, document)
    result = serve(root, kind, SEED_AND_GET)
    assert result["/by-class"] == [200, [{"name": "kept", "owner": {"name": "Ann"}}]]
    assert result["/by-function"] == [200, ["kept", "archived"]]


def test_a_twin_differing_only_in_formatting_and_comments_is_reused(cli, service):
    root = _app(service)
    apply(cli, root, subsystem="api/counts.py")
    text = read(root, "repository.py")
    line = next(line for line in text.splitlines() if line.startswith("    return list(await db.scalars("))
    reformatted = "    # the owner's items, oldest first\n" + line.replace("select(Item)", "select(\n        Item\n    )")
    (root / "repository.py").write_text(text.replace(line, reformatted), encoding="utf-8")
    document = apply(cli, root, subsystem="api/listing.py")
    assert handler(document, "list_by_function")["action"] == "migrate", handler(document, "list_by_function")
    assert "items_for_async(db, owner_id)" in read(root, "api/listing.py")
