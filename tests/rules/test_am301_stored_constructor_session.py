"""AM301 blocking-session: an `async def` dependency that only builds an object around the Session
(`return ShopContext(db)`, the class's `__init__` storing `self.db = db`, as a strawberry
`context_getter` does) does no Session work: check reported "does synchronous Session work on the
event loop at line N (uses the Session `db`)". The methods called on that object are where the
work is, and are reported there. Near misses: an `__init__` querying, and the dependency committing
beside the construction, stay AM301; a class from code the analysis cannot see is not cleared."""

from __future__ import annotations

import pytest

ROUTES = """
from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.contexts import UnreadContext
from vendor_ctx import VendorContext


class ShopContext:
    def __init__(self, db: Session):
        super().__init__()
        self.db = db


class LoadingContext:
    def __init__(self, db: Session):
        self.db = db
        self.first = db.scalar(select(1))


async def get_shop_context(db: session_dependency) -> ShopContext:
    return ShopContext(db)


async def get_loading_context(db: session_dependency) -> LoadingContext:
    return LoadingContext(db)


async def get_committed_context(db: session_dependency) -> ShopContext:
    context = ShopContext(db)
    db.commit()
    return context


async def get_vendor_context(db: session_dependency):
    return VendorContext(db)


async def get_unread_context(db: session_dependency):
    return UnreadContext(db)


@router.get("/shop")
def shop(context: ShopContext = Depends(get_shop_context)):
    return {"ok": context is not None}


@router.get("/loading")
def loading(context: LoadingContext = Depends(get_loading_context)):
    return {"ok": context is not None}


@router.get("/committed")
def committed(context: ShopContext = Depends(get_committed_context)):
    return {"ok": context is not None}


@router.get("/vendor")
def vendor(context=Depends(get_vendor_context)):
    return {"ok": context is not None}


@router.get("/unread")
def unread(context=Depends(get_unread_context)):
    return {"ok": context is not None}
"""


@pytest.fixture
def root(app):  # type: ignore[no-untyped-def]
    # a project module the analysis cannot read (outside PATH, or, here, unparsable)
    return app(ROUTES, {"core/contexts.py": "class UnreadContext(:\n"})


def test_a_dependency_only_building_an_object_around_the_session_does_no_work(root, findings):
    assert findings(root, "get_shop_context") == []


@pytest.mark.parametrize(
    ("function", "expected"),
    [("get_loading_context", "LoadingContext.__init__(...)"), ("get_committed_context", "line 38 (db.commit())")],
    ids=["near-miss-init-queries", "near-miss-commit-beside"],
)
def test_near_miss_work_beside_or_inside_the_construction_is_definite(root, findings, function, expected):
    found = findings(root, function)
    assert [f["code"] for f in found] == ["AM301"], found
    assert expected in found[0]["message"], found


def test_near_miss_a_class_the_analysis_cannot_see_is_not_cleared(root, findings):
    found = findings(root, "get_vendor_context")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "VendorContext" in found[0]["message"], found[0]["message"]


def test_a_project_class_the_analysis_cannot_read_is_unverified(root, findings):
    found = findings(root, "get_unread_context")
    assert [f["code"] for f in found] == ["AM304"], found[0]["message"]
    assert "UnreadContext" in found[0]["message"], found
