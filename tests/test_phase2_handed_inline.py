"""Phase two's reason for a route returning what a helper hands back, its argument, given as a
call written in place: `return rename(db, fetch(db, item_id))`.

The flow does not follow an object through a call's result handed on as an argument, so no query
is known to load what the route returns, and `ItemOut.owner` blocks it (AM222). The reason said
"not eager-loaded in the route's queries" and advised adding `selectinload(Item.owner)` to the
query loading it, which the same run already added to that query, in `fetch`, for another route
(a new-user trial: `return service.lend(service.get(book_id))`). Now it names the object, the
helper handing it back, the call written in place and why the eager load does not reach it, and
advises binding the object to a name first. Near misses: so bound, the route migrates with the
eager load and serves what it did, RUN before and after on SQLite, PostgreSQL and MariaDB; an
object built in place (`keep(db, Item(...))`) keeps the reason it had.
"""

from __future__ import annotations

import pytest
from phase2_models import user_item_models
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MODELS = user_item_models("owner: Mapped[User] = relationship()", orm="relationship")
HEAD = """
from pydantic import BaseModel, ConfigDict


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    owner: UserOut


def fetch(db: Session, item_id: int) -> Item:
    return db.get(Item, item_id)


def rename(db: Session, item: Item) -> Item:
    item.name = "renamed"
    db.commit()
    return item


def keep(db: Session, item: Item) -> Item:
    db.add(item)
    db.commit()
    return item


@router.get("/items/{item_id}", response_model=ItemOut)
def read_item(item_id: int, db: session_dependency):
    return fetch(db, item_id)
"""
INLINE = """
@router.post("/items/{item_id}/rename", response_model=ItemOut)
def renamed(item_id: int, db: session_dependency):
    return rename(db, fetch(db, item_id))
"""
BOUND = """
@router.post("/items/{item_id}/rename", response_model=ItemOut)
def renamed(item_id: int, db: session_dependency):
    item = fetch(db, item_id)
    return rename(db, item)
"""
BUILT = """
@router.post("/items", response_model=ItemOut)
def renamed(db: session_dependency):
    return keep(db, Item(name="pen", owner_id=1))
"""
SEED = """
    with Sync() as s:
        s.add(Item(name="pen", owner_id=1))
        s.commit()
"""
CALLS = """
    print(json.dumps([client.get("/items/1").json(), client.post("/items/1/rename").json()]))
"""
ANSWER = [{"name": "pen", "owner": {"name": "Ann"}}, {"name": "renamed", "owner": {"name": "Ann"}}]


def _service(service, route: str):  # type: ignore[no-untyped-def]
    head = HEAD.replace("\n\n\ndef fetch", "\n\n\nrouter = APIRouter()\n\n\ndef fetch", 1)
    return service({"models.py": MODELS, SUBSYSTEM: routes(route).replace("router = APIRouter()", head)})


def _blocked(cli, root) -> dict:  # type: ignore[no-untyped-def]
    document = apply(cli, root)
    assert handler(document, "read_item")["action"] == "migrate"  # the eager load goes into fetch's query
    assert "selectinload(Item.owner)" in read(root, SUBSYSTEM)
    found = handler(document, "renamed")
    assert found["action"] == "blocked" and "AM222" in found["codes"], found
    return found


def test_the_reason_names_the_helper_and_the_call_written_in_place(cli, service):
    root = _service(service, INLINE)
    (reason,) = [r for r in _blocked(cli, root)["reasons"] if "ItemOut.owner" in r]
    assert ("response model ItemOut.owner reads relationship Item.owner, on the object the route returns: what "
            "api.items.rename() hands back, its argument `item`, given the result of `fetch(...)` written in "
            "place; the tool follows no object through a call's result handed on as an argument, so neither the "
            "query in api.items.fetch nor an eager load there is known to load it") in reason, reason
    assert ("fix: bind it to a name first (`item = fetch(...)`, then `rename(..., item)`): the tool follows a "
            "named object through the call it is handed to, and the query's eager load with it") in reason, reason
    assert "add `selectinload(Item.owner)` to the query" not in reason, reason
    assert "def renamed(item_id: int, db: session_dependency):" in read(root, SUBSYSTEM)  # left as it was


def test_near_miss_an_object_built_in_place_keeps_its_reason(cli, service):
    root = _service(service, BUILT)
    (reason,) = [r for r in _blocked(cli, root)["reasons"] if "ItemOut.owner" in r]
    assert "not eager-loaded in the route's queries" in reason, reason
    assert "written in place" not in reason, reason


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_bound_to_a_name_migrates_and_serves_the_same(cli, service, kind):
    root = _service(service, BOUND)
    assert serve(root, kind, SEED + CALLS) == ANSWER  # the synchronous routes
    document = apply(cli, root)
    assert handler(document, "renamed")["action"] == "migrate", handler(document, "renamed")["reasons"]
    assert "async def renamed(" in read(root, SUBSYSTEM)
    assert serve(root, kind, SEED + CALLS) == ANSWER
