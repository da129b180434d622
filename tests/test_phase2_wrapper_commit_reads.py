"""Phase two and a route whose decorator commits the Session in its `async def` wrapper once the
route has returned (`@transactional`: `result = await fn(*args, db=db, **kwargs); await
db.commit(); return result`): FastAPI serialises what the route returned after that commit.

The analysis of what a commit expires did not count that commit: the migrated route returned the
object it built unrefreshed, the commit's flush expired `tally` (a `column_property` the database
computes), and serialising it raised MissingGreenlet, HTTP 500 (a new-user trial). An expiring
async sessionmaker expired the whole object there the same way. Phase two cannot refresh after a
decorator's commit, so such a route now blocks (AM249, AM248) naming the decorator, the object
and what expires, and stays as it was; the fix the reason names (flush and refresh before the
return) migrates and runs. A helper under such a decorator is a commit point for its caller,
which refreshes what it reads after the call.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from phase2_kit import KINDS
from phase2_models import user_item_models
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve
from test_phase2_soundness_stack import existing_async

service = test_phase2_soundness.service  # the small application on the sync stack

TRANSACTIONS = """
import functools
import inspect
import logging

log = logging.getLogger(__name__)


def transactional(fn):
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def awrapper(*args, db, **kwargs):
            result = await fn(*args, db=db, **kwargs)
            await db.commit()
            return result
        return awrapper

    @functools.wraps(fn)
    def wrapper(*args, db, **kwargs):
        result = fn(*args, db=db, **kwargs)
        db.commit()
        return result
    return wrapper


def committing(fn):
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def awrapper(*args, **kwargs):
            session = kwargs["db"]
            result = await fn(*args, **kwargs)
            await finish(session)
            return result
        return awrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        result = fn(*args, **kwargs)
        kwargs["db"].commit()
        return result
    return wrapper


async def finish(session):
    await session.commit()


def logged(fn):
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def awrapper(*args, **kwargs):
            log.info("calling %s", fn.__name__)
            return await fn(*args, **kwargs)
        return awrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        log.info("calling %s", fn.__name__)
        return fn(*args, **kwargs)
    return wrapper
"""
COMPUTED = user_item_models(orm="column_property", core="func, select") + (
    "\n\nItem.tally = column_property(select(func.count(User.id)).where(User.id == Item.owner_id).scalar_subquery())\n"
)
CREATE = """
from pydantic import BaseModel, ConfigDict

from core.transactions import transactional


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    tally: int


@router.post("/items", response_model=ItemOut)
@transactional
def create(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    return item
"""
CREATED = """
response = client.post("/items", params={"name": "pen"})
with Sync() as s:
    stored = list(s.scalars(select(Item.name)).all())
print(json.dumps({"status": response.status_code, "body": response.json(), "stored": stored}))
"""
OWNED = user_item_models('owner: Mapped["User"] = relationship()')
RENAME = """
from pydantic import BaseModel, ConfigDict

from core.transactions import transactional


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    owner: UserOut


@router.patch("/items/{item_id}", response_model=ItemOut)
@transactional
def rename(item_id: int, name: str, db: session_dependency):
    item = db.get(Item, item_id)
    item.name = name
    return item
"""
RENAMED = """
with Sync() as s:
    s.add(Item(id=5, name="pen", owner_id=1))
    s.commit()
response = client.patch("/items/5", params={"name": "quill"})
with Sync() as s:
    stored = s.get(Item, 5).name
print(json.dumps({"status": response.status_code, "body": response.json(), "stored": stored}))
"""
EXPIRING = existing_async(
    "engine.url.set(drivername=ASYNC_DRIVERS[engine.url.drivername])",
    maker="async_sessionmaker(async_engine)",  # expire_on_commit=True, the default
)


def _reasons(document: dict, name: str) -> str:
    found = handler(document, name)
    assert found["action"] == "blocked", found
    return " ".join(found["reasons"])


@pytest.mark.parametrize("kind", KINDS)
def test_a_computed_column_returned_after_the_decorators_commit_blocks_and_the_route_still_answers(
    cli, service, kind
):
    root = service({"models.py": COMPUTED, "core/transactions.py": TRANSACTIONS, SUBSYSTEM: routes(CREATE)})
    document = apply(cli, root)
    text = _reasons(document, "create")
    assert "AM249" in handler(document, "create")["codes"]
    assert (
        "`item` is returned (line 29) and read by the response after `@transactional`'s wrapper calls "
        "`db.commit()` on the Session (core/transactions.py:13), once `create` has returned: the flush of "
        "that commit writes the row and expires `tally`, which the database computes" in text
    ), text
    assert "fix: flush and refresh `item` in `create` before returning it" in text, text
    assert function(root, SUBSYSTEM, "create").startswith("def create(name: str, db: session_dependency):")
    # before: migrated, the response read `tally` after the commit: MissingGreenlet, HTTP 500
    assert serve(root, kind, CREATED) == {"status": 200, "body": {"id": 1, "name": "pen", "tally": 1}, "stored": ["pen"]}


def test_a_wrapper_reading_the_session_from_kwargs_and_committing_through_a_helper_blocks_too(cli, service):
    source = CREATE.replace("transactional", "committing").replace(
        "    return item", "    return {\"item\": item, \"names\": [item.name]}"
    ).replace('response_model=ItemOut', 'response_model=dict[str, ItemOut | list[str]]')
    root = service({"models.py": COMPUTED, "core/transactions.py": TRANSACTIONS, SUBSYSTEM: routes(source)})
    document = apply(cli, root)
    text = _reasons(document, "create")
    assert (
        "`item` is returned (line 29) and read by the response after `@committing`'s wrapper "
        "hands the Session to `finish(session)` (core/transactions.py:31), which may commit it, once `create` has "
        "returned" in text and "expires `tally`" in text
    ), text


@pytest.mark.parametrize("kind", KINDS)
def test_an_expiring_async_sessionmaker_blocks_the_object_returned_after_the_decorators_commit(cli, service, kind):
    root = service({
        "models.py": OWNED, "db/engine.py": EXPIRING, "core/transactions.py": TRANSACTIONS, SUBSYSTEM: routes(RENAME),
    })
    document = apply(cli, root)
    text = _reasons(document, "rename")
    assert "AM248" in handler(document, "rename")["codes"]
    assert (
        "`item` is returned (line 35) and read by the response after `@transactional`'s wrapper calls "
        "`db.commit()` on the Session (core/transactions.py:13), once `rename` has returned: the async "
        "sessionmaker (db/engine.py:" in text and "expires every object on commit (expire_on_commit=True), so "
        "reading every attribute of `item` is implicit IO" in text
    ), text
    assert function(root, SUBSYSTEM, "rename").startswith("def rename(item_id: int, name: str, db: session_dependency):")
    assert serve(root, kind, RENAMED) == {
        "status": 200, "body": {"id": 5, "name": "quill", "owner": {"id": 1, "name": "Ann"}}, "stored": "quill",
    }


@pytest.mark.parametrize("kind", KINDS)
def test_the_fix_the_block_names_flush_and_refresh_before_the_return_migrates_and_runs(cli, service, kind):
    source = CREATE.replace("    db.add(item)\n", "    db.add(item)\n    db.flush()\n    db.refresh(item)\n")
    root = service({"models.py": COMPUTED, "core/transactions.py": TRANSACTIONS, SUBSYSTEM: routes(source)})
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")
    assert "    await db.flush()\n    await db.refresh(item)\n    return item" in function(root, SUBSYSTEM, "create")
    assert serve(root, kind, CREATED) == {"status": 200, "body": {"id": 1, "name": "pen", "tally": 1}, "stored": ["pen"]}


HELPER = """
from core.transactions import transactional


@transactional
def rename_item(*, db: Session, item: Item, name: str) -> None:
    item.name = name
    db.add(item)


@router.patch("/items/{item_id}")
def rename(item_id: int, name: str, db: session_dependency):
    item = db.get(Item, item_id)
    rename_item(db=db, item=item, name=name)
    return {"id": item.id, "name": item.name}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_helper_under_a_committing_decorator_is_a_commit_point_its_caller_refreshes_after(cli, service, kind):
    root = service({"db/engine.py": EXPIRING, "core/transactions.py": TRANSACTIONS, SUBSYSTEM: routes(HELPER)})
    document = apply(cli, root)
    assert handler(document, "rename")["action"] == "migrate", handler(document, "rename")
    # before: no refresh, and `item.id` read after the wrapper's commit raised MissingGreenlet
    assert (
        "    await rename_item(db=db, item=item, name=name)\n    if item is not None:\n        await db.refresh(item)\n"
        in function(root, SUBSYSTEM, "rename")
    )
    result = serve(root, kind, RENAMED)
    assert result == {"status": 200, "body": {"id": 5, "name": "quill"}, "stored": "quill"}


def test_near_miss_a_decorator_that_does_not_commit_leaves_the_routes_own_commit_and_refresh(cli, service):
    source = CREATE.replace("transactional", "logged").replace("    return item", "    db.commit()\n    return item")
    root = service({"models.py": COMPUTED, "core/transactions.py": TRANSACTIONS, SUBSYSTEM: routes(source)})
    document = apply(cli, root)
    assert handler(document, "create")["action"] == "migrate", handler(document, "create")
    assert "    await db.commit()\n    await db.refresh(item)\n    return item" in function(root, SUBSYSTEM, "create")
    assert serve(root, "sqlite", CREATED) == {"status": 200, "body": {"id": 1, "name": "pen", "tally": 1}, "stored": ["pen"]}


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_plain_loaded_columns_with_a_maker_that_keeps_objects_migrate_as_before(cli, service, kind):
    # expire_on_commit=False and no column the database computes: the wrapper's commit expires
    # nothing the response reads (its relationship is eager-loaded, as without the decorator)
    root = service({"models.py": OWNED, "core/transactions.py": TRANSACTIONS, SUBSYSTEM: routes(RENAME)})
    document = apply(cli, root)
    found = handler(document, "rename")
    assert found["action"] == "migrate", found
    assert not any("transactional" in r for r in found["reasons"]), found["reasons"]
    assert "refresh" not in function(root, SUBSYSTEM, "rename")
    assert serve(root, kind, RENAMED) == {
        "status": 200, "body": {"id": 5, "name": "quill", "owner": {"id": 1, "name": "Ann"}}, "stored": "quill",
    }
