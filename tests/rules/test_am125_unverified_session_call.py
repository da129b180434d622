"""AM125 unverified-session-call: an object unseen code built from the Session keeps the handler, unverified."""

from __future__ import annotations

DEPS = """
from fastapi import Depends
from sqlalchemy.orm import Session
from vendor_sdk import make_repository

from db.engine import get_db_session


def get_repo(db: Session = Depends(get_db_session)):
    return make_repository(db)


def get_cache():
    return make_repository(None)
"""


def test_a_method_on_an_object_built_from_the_session_by_unseen_code_keeps_with_am125(app, reported):
    root = app(
        """
        from fastapi import Depends

        from deps import get_repo


        @router.get("/items")
        async def list_items(repo=Depends(get_repo)):
            return repo.list()
        """,
        {"deps.py": DEPS},
    )
    entry = reported(root, "list_items", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM125"])
    assert entry["reasons"][0].startswith("unverified: `repo.list()` is called on `repo`, built from the Session")


def test_near_miss_an_object_built_without_the_session_keeps_with_am105(app, reported):
    root = app(
        """
        from fastapi import Depends

        from deps import get_cache


        @router.get("/items")
        async def list_items(repo=Depends(get_cache)):
            return repo.list()
        """,
        {"deps.py": DEPS},
    )
    assert reported(root, "list_items", "phase1")["codes"] == ["AM105"]
