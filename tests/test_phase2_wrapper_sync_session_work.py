"""Phase two and a route under a decorator whose `async def` wrapper does synchronous Session work
on the Session it hands the route (`kwargs["db"].commit()` after `result = await fn(*args,
**kwargs)`).

Phase two moved the route to AsyncSession and left the wrapper as it was: its commit became a
coroutine nothing awaited, the route answered 200 and no row was written. Such a route now blocks
(AM217) naming the decorator, the wrapper's call and its line, and the unchanged route still
commits. So does a plain route whose decorator's coroutine side (past `iscoroutinefunction(fn)`),
which only the route's move would run, commits unawaited, and a route reaching a helper under such
a decorator. Where the plan misses it, the self-check of the rewritten code catches it (AM223). A
wrapper reading `db = kwargs["db"]` was blocked before already, as work on an item of `kwargs`
nothing types (AM272). A wrapper that awaits its Session work, or does none, leaves the route
migrating.
"""

from __future__ import annotations

import textwrap

import pytest
import test_phase2_soundness
from phase2_kit import KINDS
from test_phase2_rules import apply, function, handler, line_of
from test_phase2_soundness import SUBSYSTEM, routes, serve

service = test_phase2_soundness.service  # the small application on the sync stack

# the wrapper's Session work, each way a decorator reaches the Session it hands the route
WRAPPERS = {
    "item": """
        async def wrapper(*args, **kwargs):
            result = await fn(*args, **kwargs)
            kwargs["db"].commit()
            return result
    """,
    "name": """
        async def wrapper(*args, **kwargs):
            db = kwargs["db"]
            result = await fn(*args, **kwargs)
            db.commit()
            return result
    """,
    "parameter": """
        async def wrapper(*args, db: Session, **kwargs):
            result = await fn(*args, db=db, **kwargs)
            db.commit()
            return result
    """,
    "helper": """
        async def wrapper(*args, **kwargs):
            result = await fn(*args, **kwargs)
            commit(kwargs["db"])
            return result
    """,
}
# the wrapper's call as the reason names it
CALLS = {"item": 'kwargs["db"].commit()', "name": "db.commit()", "parameter": "db.commit()", "helper": 'commit(kwargs["db"])'}


def transactions(wrapper: str) -> str:
    """core/transactions.py: `@transactional` with the given `async def wrapper`, and a plain
    `commit(session)` helper."""
    body = textwrap.indent(textwrap.dedent(wrapper).strip("\n"), "    ")
    return (
        "import functools\n\nfrom sqlalchemy.orm import Session\n\n\n"
        "def commit(session: Session) -> None:\n    session.commit()\n\n\n"
        "def transactional(fn):\n    @functools.wraps(fn)\n" + body + "\n    return wrapper\n"
    )


CREATE = """
from core.transactions import transactional


@router.post("/items")
@transactional
async def create_item(name: str, db: Session = Depends(get_db_session)):
    db.add(Item(name=name, owner_id=1))
    return {"ok": True}
"""
CREATED = """
response = client.post("/items", params={"name": "pen"})
with Sync() as s:
    stored = list(s.scalars(select(Item.name)).all())
print(json.dumps({"status": response.status_code, "body": response.json(), "stored": stored}))
"""
STORED = {"status": 200, "body": {"ok": True}, "stored": ["pen"]}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("form", list(WRAPPERS))
def test_an_async_route_under_a_wrapper_doing_unawaited_session_work_blocks_and_still_commits(
    cli, service, form, kind
):
    root = service({"core/transactions.py": transactions(WRAPPERS[form]), SUBSYSTEM: routes(CREATE)})
    call = CALLS[form]
    line = line_of(root, "core/transactions.py", f"        {call}")
    document = apply(cli, root)
    found = handler(document, "create_item")
    # before: migrated, the wrapper's commit a coroutine nothing awaited: 200 and no row
    assert found["action"] == "blocked", found
    text = " ".join(found["reasons"])
    if form == "name":
        # blocked on main already, as work on an item of `kwargs` nothing types
        assert found["codes"] == ["AM272"], text
        assert "calls @transactional -> `.commit()` is called on an item taken by subscript out of `kwargs`" in text
        assert serve(root, kind, CREATED) == STORED
        return
    assert found["codes"] == ["AM217"], text
    assert "`create_item` is wrapped by `@transactional`, whose `async def` wrapper " in text, text
    if form == "helper":
        assert (f"hands the Session it hands the function to `{call}` (core/transactions.py:{line}) without "
                "awaiting the Session work done there") in text, text
    else:
        assert (f"calls `{call}` (core/transactions.py:{line}) on the Session it hands the function, without "
                "`await`: on the AsyncSession that is a coroutine nothing awaits: nothing is committed, and the "
                "route still answers 200") in text, text
    assert "phase two does not rewrite the wrapper, which every function under `@transactional` shares" in text
    assert function(root, SUBSYSTEM, "create_item").startswith(
        "async def create_item(name: str, db: Session = Depends(get_db_session)):"
    )
    assert serve(root, kind, CREATED) == STORED


BRANCHED = """
import functools
import inspect


def transactional(fn):
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def awrapper(*args, db, **kwargs):
            result = await fn(*args, db=db, **kwargs)
            db.commit()
            return result
        return awrapper

    @functools.wraps(fn)
    def wrapper(*args, db, **kwargs):
        result = fn(*args, db=db, **kwargs)
        db.commit()
        return result
    return wrapper
"""
PLAIN_CREATE = CREATE.replace("async def create_item", "def create_item")


@pytest.mark.parametrize("kind", KINDS)
def test_a_plain_route_whose_decorators_coroutine_side_commits_unawaited_blocks_and_still_commits(cli, service, kind):
    # the coroutine side never ran before: phase two's move of the route is what would run it
    root = service({"core/transactions.py": BRANCHED, SUBSYSTEM: routes(PLAIN_CREATE)})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    assert "AM217" in found["codes"], found
    assert "calls `db.commit()` (core/transactions.py:10) on the Session it hands the function, without `await`" in (
        " ".join(found["reasons"])
    ), found["reasons"]
    assert function(root, SUBSYSTEM, "create_item").startswith("def create_item(")
    assert serve(root, kind, CREATED) == STORED


def test_the_self_check_catches_the_wrappers_unawaited_commit_the_plan_missed(cli, service, monkeypatch):
    # a plan that no longer blocks it: the rewritten route, analysed again, reaches the wrapper
    from async_migrate.codemods.phase2 import wrapper_awaits

    monkeypatch.setattr(wrapper_awaits, "blockers", lambda project, fid: [])
    root = service({"core/transactions.py": transactions(WRAPPERS["item"]), SUBSYSTEM: routes(CREATE)})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    assert found["codes"] == ["AM223"], found
    assert (
        "self-check: create_item: " in " ".join(found["reasons"])
        and "`@transactional`'s `async def` wrapper calls `kwargs[\"db\"].commit()` (core/transactions.py:14) "
        "without `await` on the AsyncSession it hands the function" in " ".join(found["reasons"])
    ), found["reasons"]
    assert function(root, SUBSYSTEM, "create_item").startswith("async def create_item(name: str, db: Session")


AWAITING = """
import functools
import inspect

from sqlalchemy.ext.asyncio import AsyncSession


def transactional(fn):
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def awrapper(*args, db: AsyncSession, **kwargs):
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
"""


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_wrapper_awaiting_the_commit_on_an_async_session_migrates_and_commits(cli, service, kind):
    root = service({"core/transactions.py": AWAITING, SUBSYSTEM: routes(PLAIN_CREATE)})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "migrate", found
    assert function(root, SUBSYSTEM, "create_item").startswith(
        "async def create_item(name: str, db: AsyncSession = Depends(get_async_db_session)):"
    )
    assert serve(root, kind, CREATED) == STORED


LOGGED = """
import functools
import logging

log = logging.getLogger(__name__)


def logged(fn):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        log.info("calling %s with %s", fn.__name__, sorted(kwargs))
        return await fn(*args, **kwargs)
    return wrapper
"""
LOGGED_CREATE = """
from core.transactions import logged


@router.post("/items")
@logged
async def create_item(name: str, db: Session = Depends(get_db_session)):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"ok": True}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_a_wrapper_doing_no_session_work_migrates_and_commits(cli, service, kind):
    root = service({"core/transactions.py": LOGGED, SUBSYSTEM: routes(LOGGED_CREATE)})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "migrate", found
    assert "    await db.commit()\n" in function(root, SUBSYSTEM, "create_item")
    assert serve(root, kind, CREATED) == STORED


HELPER = """
from core.transactions import transactional


@transactional
async def save_item(*, db: Session, name: str) -> None:
    db.add(Item(name=name, owner_id=1))


@router.post("/items")
async def create_item(name: str, db: Session = Depends(get_db_session)):
    await save_item(db=db, name=name)
    return {"ok": True}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_route_reaching_a_helper_under_such_a_wrapper_blocks_and_still_commits(cli, service, kind):
    root = service({"core/transactions.py": transactions(WRAPPERS["parameter"]), SUBSYSTEM: routes(HELPER)})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "blocked", found
    text = " ".join(found["reasons"])
    assert "AM217" in found["codes"], text
    assert "`save_item` is wrapped by `@transactional`, whose `async def` wrapper calls `db.commit()` " \
        "(core/transactions.py:14) on the Session it hands the function, without `await`" in text, text
    assert function(root, SUBSYSTEM, "save_item").startswith("async def save_item(*, db: Session, name: str)")
    assert serve(root, kind, CREATED) == STORED
