"""AM294 handler-decorator-wraps: a `def` route under a decorator with a synchronous wrapper
blocks in phase two; listed under `safe-decorators` it migrates (run in
tests/test_phase2_handler_decorators.py)."""

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


def test_near_miss_listed_under_safe_decorators_it_migrates(app, reported):
    root = app(ROUTER, {"pyproject.toml": '[tool.async-migrate]\nsafe-decorators = ["api.items.timed"]\n'})
    entry = reported(root, "list_books", "phase2", "--subsystem", "api/items.py")
    assert entry["action"] == "migrate" and "AM294" not in entry["codes"], entry
