"""AM294 handler-decorator-wraps: a `def` route under a decorator with a synchronous wrapper
blocks in phase two; listed under `async-safe-decorators` it migrates, under `safe-decorators`
(works with a plain function) it does not (run in tests/test_phase2_handler_decorators.py)."""

from __future__ import annotations

ROUTER = """
import functools

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Book


def timed(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@router.get("/books")
@timed
def list_books(db: Session = Depends(get_db_session)):
    return {"n": len(db.scalars(select(Book)).all())}
"""


def test_a_sync_wrapper_around_a_def_route_blocks_it_with_am294(app, reported):
    root = app(ROUTER)
    entry = reported(root, "list_books", "phase2", "--subsystem", "api/items.py")
    assert entry["action"] == "blocked" and "AM294" in entry["codes"], entry


def test_near_miss_listed_under_async_safe_decorators_it_migrates(app, reported):
    root = app(ROUTER, {"pyproject.toml": '[tool.async-migrate]\nasync-safe-decorators = ["api.items.timed"]\n'})
    entry = reported(root, "list_books", "phase2", "--subsystem", "api/items.py")
    assert entry["action"] == "migrate" and "AM294" not in entry["codes"], entry


def test_listed_only_as_working_with_plain_functions_it_still_blocks(app, reported, findings):
    # what phase one's AM111/AM112 fix asks for says nothing of how it treats a coroutine function
    root = app(ROUTER, {"pyproject.toml": '[tool.async-migrate]\nsafe-decorators = ["api.items.timed"]\n'})
    entry = reported(root, "list_books", "phase2", "--subsystem", "api/items.py")
    assert entry["action"] == "blocked" and "AM294" in entry["codes"], entry
    assert 'list it as "api.items.timed" under `async-safe-decorators`' in " ".join(entry["reasons"]), entry


BOUND = """
import functools
import inspect

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Book


class Timer:
    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return fn(*args, **kwargs)
        return wrapper


class AwareTimer:
    def __call__(self, fn):
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def awaiting(*args, **kwargs):
                return await fn(*args, **kwargs)
            return awaiting
        return fn


def timed_as(label):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return fn(*args, **kwargs)
        return wrapper
    return decorate


timer = Timer()
aware_timer = AwareTimer()
timed_db = timed_as("db")


@router.get("/books")
@{decorator}
def list_books(db: Session = Depends(get_db_session)):
    return {{"n": len(db.scalars(select(Book)).all())}}
"""


def test_a_sync_wrapper_through_an_instance_or_a_factory_alias_blocks_with_am294(app, reported):
    for decorator, line in (("timer", 20), ("timed_db", 37)):
        entry = reported(app(BOUND.format(decorator=decorator)), "list_books", "phase2", "--subsystem", "api/items.py")
        assert entry["action"] == "blocked" and "AM294" in entry["codes"], entry
        assert f"its synchronous wrapper (api/items.py:{line})" in " ".join(entry["reasons"]), entry


def test_near_miss_an_instance_whose_call_awaits_a_coroutine_function_migrates(app, reported):
    entry = reported(app(BOUND.format(decorator="aware_timer")), "list_books", "phase2", "--subsystem", "api/items.py")
    assert entry["action"] == "migrate" and "AM294" not in entry["codes"], entry


def test_the_block_names_what_to_list(app, reported):
    entry = reported(app(BOUND.format(decorator="timed_db")), "list_books", "phase2", "--subsystem", "api/items.py")
    assert 'list it as "api.items.timed_db" under `async-safe-decorators`' in " ".join(entry["reasons"]), entry
