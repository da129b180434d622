"""Phase two and the decorators wrapping a `def` route it would make `async def` (AM294).

FastAPI unwraps a `functools.wraps` wrapper and awaits what it returns once the route is a
coroutine function: a synchronous retry wrapper then returns the coroutine unrun, and the
`IntegrityError` its `db.rollback()` and retry handled escapes as a 500. Such a route stays
synchronous (RUN: its retry still rolls back and answers); an async-aware decorator listed
under `safe-decorators` migrates with the route (RUN: the retry rolls back the AsyncSession
and the second attempt's row is written); a decorator above the route decorator wraps only
the module attribute, which FastAPI never calls."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

SYNC_RETRY = """
import functools

from sqlalchemy.exc import IntegrityError


def retry_on_conflict(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for attempt in range(3):
            try:
                return fn(*args, **{**kwargs, "name": f"{kwargs['name']}-{attempt}"})
            except IntegrityError:
                kwargs["db"].rollback()
        return {"conflict": True}
    return wrapper
"""
AWARE_RETRY = """
import functools
import inspect

from sqlalchemy.exc import IntegrityError


def retry_on_conflict(fn):
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def awaiting(*args, **kwargs):
            for attempt in range(3):
                try:
                    return await fn(*args, **{**kwargs, "name": f"{kwargs['name']}-{attempt}"})
                except IntegrityError:
                    await kwargs["db"].rollback()
            return {"conflict": True}
        return awaiting

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for attempt in range(3):
            try:
                return fn(*args, **{**kwargs, "name": f"{kwargs['name']}-{attempt}"})
            except IntegrityError:
                kwargs["db"].rollback()
        return {"conflict": True}
    return wrapper
"""
# Wraps only what is a coroutine function: a plain route is handed on untouched.
COROUTINE_ONLY_RETRY = """
import functools
import inspect

from sqlalchemy.exc import IntegrityError


def retry_on_conflict(fn):
    if not inspect.iscoroutinefunction(fn):
        return fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for attempt in range(3):
            try:
                return fn(*args, **{**kwargs, "name": f"{kwargs['name']}-{attempt}"})
            except IntegrityError:
                pass
        return {"conflict": True}
    return wrapper
"""
# The wrapper names each attempt; the first reuses id 1, taken: IntegrityError; the retry writes id 5.
ROUTE = """
from api.retry import retry_on_conflict


@router.post("/items")
@retry_on_conflict
def create_item(name: str, db: session_dependency):
    item_id = 1 if name.endswith("-0") else 5
    db.add(Item(id=item_id, name=name, owner_id=1))
    db.commit()
    return {"id": item_id, "name": name}
"""
RUN = """
with Sync() as s:
    s.add(Item(id=1, name="old", owner_id=1))
    s.commit()
created = client.post("/items", params={"name": "pen"}).json()
with Sync() as s:
    stored = sorted(s.scalars(select(Item.name)).all())
print(json.dumps([created, stored]))
"""


def _files(decorator: str, route: str = ROUTE) -> dict[str, str]:
    return {"api/retry.py": decorator, SUBSYSTEM: routes(route)}


@pytest.mark.parametrize("kind", KINDS)
def test_a_sync_retry_wrapper_keeps_the_route_synchronous_and_its_retry_still_answers(cli, service, kind):
    root = service(_files(SYNC_RETRY))
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked" and "AM294" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM294")]
    assert "@retry_on_conflict" in reason and "synchronous wrapper" in reason, reason
    assert function(root, SUBSYSTEM, "create_item").startswith("def create_item"), function(root, SUBSYSTEM, "create_item")
    assert serve(root, kind, RUN) == [{"id": 5, "name": "pen-1"}, ["old", "pen-1"]]


@pytest.mark.parametrize("kind", KINDS)
def test_near_miss_an_async_aware_retry_listed_as_safe_migrates_and_rolls_back_the_async_session(
    cli, service, kind
):
    root = service({
        **_files(AWARE_RETRY),
        "pyproject.toml": '[tool.async-migrate]\nsafe-decorators = ["api.retry.retry_on_conflict"]\n',
    })
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "migrate", found
    migrated = function(root, SUBSYSTEM, "create_item")
    assert migrated.startswith("async def create_item") and "await db.commit()" in migrated, migrated
    assert serve(root, kind, RUN) == [{"id": 5, "name": "pen-1"}, ["old", "pen-1"]]


def test_near_miss_a_decorator_above_the_route_decorator_wraps_only_the_module_attribute(cli, service):
    above = ROUTE.replace('@router.post("/items")\n@retry_on_conflict', '@retry_on_conflict\n@router.post("/items")')
    root = service(_files(SYNC_RETRY, above))
    found = handler(apply(cli, root), "create_item")
    assert "AM294" not in found["codes"], found


def test_an_unread_decorator_blocks_as_unverified(cli, service):
    route = ROUTE.replace("from api.retry import retry_on_conflict", "from tenacity import retry as retry_on_conflict")
    root = service(_files(SYNC_RETRY, route))
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked" and "AM294" in found["codes"], found
    assert "cannot tell whether its wrapper" in found["reasons"][found["codes"].index("AM294")]


@pytest.mark.parametrize("kind", KINDS)
def test_an_async_aware_retry_migrates_without_configuration_and_rolls_back_the_async_session(cli, service, kind):
    # its coroutine side awaits the route: judged on that side, not on the plain one phase one reads
    root = service(_files(AWARE_RETRY))
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "migrate" and "AM294" not in found["codes"], found
    migrated = function(root, SUBSYSTEM, "create_item")
    assert migrated.startswith("async def create_item") and "await db.commit()" in migrated, migrated
    assert serve(root, kind, RUN) == [{"id": 5, "name": "pen-1"}, ["old", "pen-1"]]


def test_a_decorator_wrapping_only_coroutines_in_a_sync_wrapper_blocks(cli, service):
    # a plain route passes through it untouched; made a coroutine function, it would get the
    # synchronous wrapper, which returns the coroutine unrun
    root = service(_files(COROUTINE_ONLY_RETRY))
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked" and "AM294" in found["codes"], found
    assert "synchronous wrapper" in found["reasons"][found["codes"].index("AM294")]
    assert function(root, SUBSYSTEM, "create_item").startswith("def create_item")


# A helper under the async-aware retry: made a coroutine function, it gets the awaiting wrapper.
HELPER_ROUTE = """
from api.retry import retry_on_conflict


@retry_on_conflict
def add_item(db: Session, name: str):
    item_id = 1 if name.endswith("-0") else 5
    db.add(Item(id=item_id, name=name, owner_id=1))
    db.commit()
    return {"id": item_id, "name": name}


@router.post("/items")
def create_item(name: str, db: session_dependency):
    return add_item(db=db, name=name)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_helper_under_an_async_aware_decorator_migrates_and_its_retry_still_rolls_back(cli, service, kind):
    root = service(_files(AWARE_RETRY, HELPER_ROUTE))
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "migrate", found
    helper = function(root, SUBSYSTEM, "add_item")
    assert helper.startswith("async def add_item") and "await db.commit()" in helper, helper
    assert "await add_item(" in function(root, SUBSYSTEM, "create_item")
    assert serve(root, kind, RUN) == [{"id": 5, "name": "pen-1"}, ["old", "pen-1"]]


def test_near_miss_a_helper_under_a_synchronous_retry_stays_blocked(cli, service):
    root = service(_files(SYNC_RETRY, HELPER_ROUTE))
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked" and "AM217" in found["codes"], found


# The same retries reached through a module-level name bound to a call: an instance whose
# `__call__` decorates, and a factory's decorator (`retry_on_conflict = retrying(3)`).
AWARE_INSTANCE = """
import functools
import inspect

from sqlalchemy.exc import IntegrityError


class Retrying:
    def __call__(self, fn):
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def awaiting(*args, **kwargs):
                for attempt in range(3):
                    try:
                        return await fn(*args, **{**kwargs, "name": f"{kwargs['name']}-{attempt}"})
                    except IntegrityError:
                        await kwargs["db"].rollback()
                return {"conflict": True}
            return awaiting

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for attempt in range(3):
                try:
                    return fn(*args, **{**kwargs, "name": f"{kwargs['name']}-{attempt}"})
                except IntegrityError:
                    kwargs["db"].rollback()
            return {"conflict": True}
        return wrapper


retry_on_conflict = Retrying()
"""
SYNC_FACTORY_ALIAS = """
import functools

from sqlalchemy.exc import IntegrityError


def retrying(times):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for attempt in range(3):
                try:
                    return fn(*args, **{**kwargs, "name": f"{kwargs['name']}-{attempt}"})
                except IntegrityError:
                    kwargs["db"].rollback()
            return {"conflict": True}
        return wrapper
    return decorate


retry_on_conflict = retrying(3)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_an_async_aware_instance_decorator_migrates_and_rolls_back_the_async_session(cli, service, kind):
    root = service(_files(AWARE_INSTANCE))
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "migrate" and "AM294" not in found["codes"], found
    assert function(root, SUBSYSTEM, "create_item").startswith("async def create_item")
    assert serve(root, kind, RUN) == [{"id": 5, "name": "pen-1"}, ["old", "pen-1"]]


@pytest.mark.parametrize("kind", KINDS)
def test_a_sync_retry_bound_from_a_factory_keeps_the_route_synchronous_and_its_retry_still_answers(cli, service, kind):
    root = service(_files(SYNC_FACTORY_ALIAS))
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked" and "AM294" in found["codes"], found
    assert "synchronous wrapper" in found["reasons"][found["codes"].index("AM294")]
    assert function(root, SUBSYSTEM, "create_item").startswith("def create_item")
    assert serve(root, kind, RUN) == [{"id": 5, "name": "pen-1"}, ["old", "pen-1"]]


# A cache keeping what the route returns: made a coroutine function, it would keep the coroutine, and
# the second request would await it again. It works with a plain function, so phase one's fix lists it
# under safe-decorators; that says nothing of a coroutine function.
SYNC_CACHE = """
import functools

KEPT = {}


def cached_once(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "value" not in KEPT:
            KEPT["value"] = fn(*args, **kwargs)
        return KEPT["value"]
    return wrapper
"""
CACHED_ROUTE = """
from api.retry import cached_once


@router.get("/items/count")
@cached_once
def count_items(db: session_dependency):
    return {"n": len(db.scalars(select(Item)).all())}
"""
RUN_TWICE = """
with Sync() as s:
    s.add(Item(id=1, name="old", owner_id=1))
    s.commit()
print(json.dumps([client.get("/items/count").status_code, client.get("/items/count").json()]))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_decorator_listed_as_working_with_plain_functions_keeps_the_route_synchronous(cli, service, kind):
    root = service({
        **_files(SYNC_CACHE, CACHED_ROUTE),
        "pyproject.toml": '[tool.async-migrate]\nsafe-decorators = ["api.retry.cached_once"]\n',
    })
    found = handler(apply(cli, root), "count_items")
    assert found["action"] == "blocked" and "AM294" in found["codes"], found
    assert function(root, SUBSYSTEM, "count_items").startswith("def count_items")
    assert serve(root, kind, RUN_TWICE) == [200, {"n": 1}]


# An async-aware retry the analysis cannot read (it hands the function to a builder looked up at
# run time; one named outright is read as that one), as a library's would be: listed under
# async-safe-decorators, the helper under it migrates.
OPAQUE_AWARE_RETRY = AWARE_RETRY.replace("def retry_on_conflict(fn):", "def _build(fn):") + """

_BUILDERS = {"retry": _build}


def retry_on_conflict(fn):
    return _BUILDERS["retry"](fn)
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_helper_under_a_decorator_listed_as_async_safe_migrates_and_its_retry_still_rolls_back(cli, service, kind):
    root = service({
        **_files(OPAQUE_AWARE_RETRY, HELPER_ROUTE),
        "pyproject.toml": '[tool.async-migrate]\nasync-safe-decorators = ["api.retry.retry_on_conflict"]\n',
    })
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "migrate", found
    assert function(root, SUBSYSTEM, "add_item").startswith("async def add_item")
    assert serve(root, kind, RUN) == [{"id": 5, "name": "pen-1"}, ["old", "pen-1"]]


def test_near_miss_a_helper_under_it_listed_only_as_safe_for_plain_functions_stays_blocked(cli, service):
    root = service({
        **_files(OPAQUE_AWARE_RETRY, HELPER_ROUTE),
        "pyproject.toml": '[tool.async-migrate]\nsafe-decorators = ["api.retry.retry_on_conflict"]\n',
    })
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked" and "AM217" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM217")]
    assert 'list it as "api.retry.retry_on_conflict" under `async-safe-decorators`' in reason, reason


# A decorator that only hands the route to the retry (in another module): it wraps as the retry.
ENDPOINT = """
from api import retry


def endpoint(fn):
    return retry.retry_on_conflict(fn)
"""
DELEGATED_ROUTE = ROUTE.replace("from api.retry import retry_on_conflict", "from api.endpoints import endpoint").replace(
    "@retry_on_conflict", "@endpoint"
)


@pytest.mark.parametrize("kind", KINDS)
def test_a_decorator_handing_the_route_to_an_async_aware_retry_migrates_and_rolls_back(cli, service, kind):
    root = service({**_files(AWARE_RETRY, DELEGATED_ROUTE), "api/endpoints.py": ENDPOINT})
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "migrate" and "AM294" not in found["codes"], found
    migrated = function(root, SUBSYSTEM, "create_item")
    assert migrated.startswith("async def create_item") and "await db.commit()" in migrated, migrated
    assert serve(root, kind, RUN) == [{"id": 5, "name": "pen-1"}, ["old", "pen-1"]]


def test_near_miss_a_decorator_handing_the_route_to_a_sync_retry_blocks_naming_its_wrapper(cli, service):
    root = service({**_files(SYNC_RETRY, DELEGATED_ROUTE), "api/endpoints.py": ENDPOINT})
    found = handler(apply(cli, root), "create_item")
    assert found["action"] == "blocked" and "AM294" in found["codes"], found
    reason = found["reasons"][found["codes"].index("AM294")]
    assert "@endpoint" in reason and "its synchronous wrapper (api/retry.py:" in reason, reason
    assert function(root, SUBSYSTEM, "create_item").startswith("def create_item")
    assert serve(root, "sqlite", RUN) == [{"id": 5, "name": "pen-1"}, ["old", "pen-1"]]
