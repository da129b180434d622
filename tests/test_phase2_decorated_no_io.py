"""A helper whose own body only adds, under a decorator whose plain wrapper commits the Session
it is handed, does I/O: phase two makes it `async def` and awaits it.

`@transactional def rename_item(*, db, item, name)` doing `item.name = name; db.add(item)`, the
decorator committing `kwargs["db"]` after the call: phase two kept it a plain `def` taking the
AsyncSession, called unawaited ("only uses Session methods that do no I/O"), so the wrapper's
commit was a coroutine nobody awaited and the route answered 200 with nothing written. Now the
work of the decorators' plain wrappers on the Session the function is handed counts (the
decorator imported from another module, a factory `@committing()` taking it by position, a
helper the wrapper hands it to): the twin is `async def`, awaited, under a decorator that awaits a
coroutine function. A decorator with no awaiting wrapper, or one whose wrapper the analysis cannot
read, blocks the route naming why. A decorator doing no Session work keeps the helper a plain
`def`, called as it is, as an undecorated helper that only adds.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from phase2_kit import KINDS
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve

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
    def wrapper(*args, **kwargs):
        db = kwargs["db"]
        result = fn(*args, **kwargs)
        db.commit()
        return result
    return wrapper


def transactional_named(fn):
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def awrapper(*args, db, **kwargs):
            try:
                result = await fn(*args, db=db, **kwargs)
                await db.commit()
                return result
            except Exception:
                await db.rollback()
                raise
        return awrapper

    @functools.wraps(fn)
    def wrapper(*args, db, **kwargs):
        try:
            result = fn(*args, db=db, **kwargs)
            db.commit()
            return result
        except Exception:
            db.rollback()
            raise
    return wrapper


def committing(attempts=1):
    def decorate(fn):
        if inspect.iscoroutinefunction(fn):
            async def awrapper(session, *args, **kwargs):
                result = await fn(session, *args, **kwargs)
                await finish(session)
                return result
            return awrapper

        def wrapper(session, *args, **kwargs):
            result = fn(session, *args, **kwargs)
            finish(session)
            return result
        return wrapper
    return decorate


def finish(session):
    return session.commit()


def plain_only(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        result = fn(*args, **kwargs)
        kwargs["db"].commit()
        return result
    return wrapper


class Audited:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        log.info("calling %s", fn.__name__)
        return fn(*args, **kwargs)
    return wrapper
"""
FILES = {"core/transactions.py": TRANSACTIONS}

RENAME = """
from core.transactions import transactional


@transactional
def rename_item(*, db: Session, item: Item, name: str) -> Item:
    item.name = name
    db.add(item)
    return item


@router.post("/items", status_code=201)
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    return {"id": item.id}


@router.patch("/items/{item_id}")
def rename(item_id: int, name: str, db: session_dependency):
    item = db.get(Item, item_id)
    rename_item(db=db, item=item, name=name)
    return {"id": item.id, "name": item.name}
"""
POSITIONAL = """
from core.transactions import committing


@committing(attempts=3)
def rename_item(session: Session, item: Item, name: str) -> Item:
    item.name = name
    session.add(item)
    return item


@router.patch("/items/{item_id}")
def rename(item_id: int, name: str, db: session_dependency):
    item = db.get(Item, item_id)
    rename_item(db, item, name)
    return {"id": item.id, "name": item.name}
"""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("decorator", ["transactional", "transactional_named"])
def test_phase_two_awaits_an_adding_helper_whose_decorator_commits_and_the_row_is_updated(cli, service, kind, decorator):
    # `db = kwargs["db"]` in the plain wrapper, or `def wrapper(*args, db, **kwargs)`
    source = RENAME.replace("import transactional", f"import {decorator}").replace("@transactional", f"@{decorator}")
    root = service({**FILES, SUBSYSTEM: routes(source)})
    document = apply(cli, root)
    found = handler(document, "rename")
    assert found["action"] == "migrate", found
    assert not any("plainly" in r for r in found["reasons"]), found["reasons"]
    assert function(root, SUBSYSTEM, "rename_item").startswith("async def rename_item(*, db: AsyncSession")
    assert "await rename_item(db=db, item=item, name=name)" in function(root, SUBSYSTEM, "rename")
    result = serve(root, kind, """
        made = client.post("/items", params={"name": "pen"}).json()["id"]
        answer = client.patch(f"/items/{made}", params={"name": "quill"})
        with Sync() as s:
            stored = s.get(Item, made).name
        print(json.dumps({"status": answer.status_code, "name": answer.json()["name"], "stored": stored}))
    """)
    assert result == {"status": 200, "name": "quill", "stored": "quill"}


def test_a_decorator_factory_taking_the_session_by_position_through_a_helper_makes_it_async(cli, service):
    root = service({**FILES, SUBSYSTEM: routes(POSITIONAL)})
    document = apply(cli, root)
    assert handler(document, "rename")["action"] == "migrate", handler(document, "rename")
    assert function(root, SUBSYSTEM, "rename_item").startswith("async def rename_item(session: AsyncSession")
    assert "await rename_item(db, item, name)" in function(root, SUBSYSTEM, "rename")


@pytest.mark.parametrize(
    ("decorator", "why"),
    [
        ("plain_only", "@plain_only's plain wrapper calls `kwargs[\"db\"].commit()` on the Session it is handed "
                       "(core/transactions.py:76)"),
        ("Audited", "@Audited's wrapper (core/transactions.py:85) cannot be read"),
    ],
)
def test_a_decorator_committing_without_an_awaiting_wrapper_or_unread_blocks_naming_it(cli, service, decorator, why):
    source = RENAME.replace("import transactional", f"import {decorator}").replace("@transactional", f"@{decorator}")
    root = service({**FILES, SUBSYSTEM: routes(source)})
    document = apply(cli, root)
    found = handler(document, "rename")
    assert found["action"] == "blocked", found
    text = " ".join(found["reasons"])
    assert f"`rename_item` is decorated with `@{decorator}` (it moves to `async def` though its own Session " \
        "calls do no I/O: " in text and why in text, found["reasons"]
    assert function(root, SUBSYSTEM, "rename_item").startswith("def rename_item(*, db: Session")


def test_near_miss_a_decorator_doing_no_session_work_keeps_the_helper_a_plain_def(cli, service):
    source = RENAME.replace("import transactional", "import logged").replace("@transactional", "@logged")
    source = source.replace("    return {\"id\": item.id, \"name\": item.name}", "    db.commit()\n    return {\"id\": item.id, \"name\": item.name}")
    root = service({**FILES, SUBSYSTEM: routes(source)})
    document = apply(cli, root)
    found = handler(document, "rename")
    assert any("calls api.items.rename_item plainly" in r for r in found["reasons"]), found["reasons"]
    assert function(root, SUBSYSTEM, "rename_item").startswith("def rename_item(*, db: AsyncSession")
    assert "    rename_item(db=db, item=item, name=name)\n" in function(root, SUBSYSTEM, "rename")


def test_near_miss_an_undecorated_helper_that_only_adds_stays_a_plain_def(cli, service):
    source = RENAME.replace("from core.transactions import transactional\n", "").replace("@transactional\n", "")
    source = source.replace("    return {\"id\": item.id, \"name\": item.name}", "    db.commit()\n    return {\"id\": item.id, \"name\": item.name}")
    root = service({**FILES, SUBSYSTEM: routes(source)})
    apply(cli, root)
    assert function(root, SUBSYSTEM, "rename_item").startswith("def rename_item(*, db: AsyncSession")
    assert "    rename_item(db=db, item=item, name=name)\n" in function(root, SUBSYSTEM, "rename")
