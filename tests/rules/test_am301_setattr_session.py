"""AM301 / AM304 beside a Session bound as an attribute through `setattr()`: with a constant name
(`setattr(Repo, "session", SessionLocal())` at a module's top or in a start-up function) it is
`Repo.session = SessionLocal()`, one Session every request shares (AM126); with a name computed at
run time (`setattr(repo, field, db)` in a dependency) the analysis cannot tell which attribute
holds the Session, so a method reading an attribute the class otherwise sets to a constant alone
(`self.session = None`) is unverified (AM304). Both read as no Session work before: check passed
the routes and phase one kept them as doing none (AM105). The same at a module's top on a
module-level instance (`named.session = SessionLocal()`, `setattr(named, ATTR, SessionLocal())`)."""

from __future__ import annotations

import pytest

REPOS = """
from sqlalchemy import select

from db.engine import database_sessionmaker
from models import Book


class Shelf:
    session = None

    def count(self):
        return len(self.session.scalars(select(Book.id)).all())


class Named:
    def __init__(self):
        self.session = None
        self.label = "books"

    def count(self):
        return len(self.session.scalars(select(Book.id)).all())

SETUP
"""

SHELF_ROUTE = """
from repos import Shelf


@router.get("/count")
async def count():
    return {"n": Shelf().count()}
"""


@pytest.mark.parametrize("setup", [
    'setattr(Shelf, "session", database_sessionmaker())',
    'def configure():\n    setattr(Shelf, "session", database_sessionmaker())',
])
def test_a_session_set_on_a_class_by_a_constant_name_is_shared_session_work(app, findings, reported, setup):
    root = app(SHELF_ROUTE, {"repos.py": REPOS.replace("SETUP", setup)})
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "Shelf.count" in found[0]["message"], found
    entry = reported(root, "count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM126"), entry
    assert "a class attribute of `Shelf`" in entry["reasons"][0], entry


NAMED_ROUTE = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from repos import Named


def get_named(field: str, db: Session = Depends(get_db_session)):
    named = Named()
    setattr(named, VALUE)
    return named


@router.get("/count")
async def count(named: Named = Depends(get_named)):
    return {"n": named.count()}
"""


def test_a_session_set_by_a_name_computed_at_run_time_is_unverified(app, findings, reported):
    root = app(NAMED_ROUTE.replace("VALUE", "field, db"), {"repos.py": REPOS.replace("SETUP", "")})
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "`setattr()` naming the attribute at run time (api/items.py:" in found[0]["message"], found
    assert reported(root, "count", "phase1")["action"] == "keep"


@pytest.mark.parametrize("value", ["field, field", '"label", db.info'])
def test_near_miss_no_session_set_by_name(app, findings, value):
    # a plain value under a computed name (a PATCH loop), or no Session under a constant one
    root = app(NAMED_ROUTE.replace("VALUE", value), {"repos.py": REPOS.replace("SETUP", "")})
    assert findings(root, "count") == []


INSTANCE_ROUTE = """
from repos import named


@router.get("/count")
async def count():
    return {"n": named.count()}
"""


@pytest.mark.parametrize("setup", [
    # a name computed at run time, at a module's top, on a module-level instance
    'import os\n\nnamed = Named()\nsetattr(named, os.environ.get("ATTR", "session"), database_sessionmaker())',
    'named = Named()\nfor name, value in {"session": database_sessionmaker()}.items():\n    setattr(named, name, value)',
])
def test_a_module_level_setattr_by_a_computed_name_on_an_instance_is_unverified(app, findings, reported, setup):
    root = app(INSTANCE_ROUTE, {"repos.py": REPOS.replace("SETUP", setup)})
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "`setattr()` naming the attribute at run time (repos.py:" in found[0]["message"], found
    entry = reported(root, "count", "phase1")
    assert (entry["action"], entry["codes"]) == ("keep", ["AM125"]), entry


@pytest.mark.parametrize("setup", [
    'named = Named()\nnamed.session = database_sessionmaker()',
    'named = Named()\nsetattr(named, "session", database_sessionmaker())',
])
def test_a_session_set_on_a_module_level_instance_at_import_is_shared_session_work(app, findings, reported, setup):
    root = app(INSTANCE_ROUTE, {"repos.py": REPOS.replace("SETUP", setup)})
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM301"], found
    entry = reported(root, "count", "phase1")
    assert (entry["action"], entry["codes"][0]) == ("keep", "AM126"), entry
    assert "set on the module-level instance `named` at import (repos.py:" in entry["reasons"][0], entry


@pytest.mark.parametrize("setup", [
    # a constant under a computed name, and no Session under a constant one
    'named = Named()\nfor name in ("label", "title"):\n    setattr(named, name, "books")',
    'named = Named()\nnamed.label = str("books")',
])
def test_near_miss_no_session_set_on_a_module_level_instance(app, findings, setup):
    root = app(INSTANCE_ROUTE, {"repos.py": REPOS.replace("SETUP", setup)})
    assert findings(root, "count") == []
