"""AM304 unverified-session beside a method called on an item of a module-level container: a
pool, registry or cache of project objects (`POOL[key] = Repo(session)` in a function,
`REPOS = {"users": UserRepo(db)}`, a list appended to), read by a route as `POOL[key].count()`,
`POOL.get(key).count()`, `repo = POOL[key]` then `repo.count()`, or a loop over it. The value
flow keeps no values for such items, so the call graph has no edge: a project method of that
name doing synchronous Session work makes the route unverified, never "no Session work"."""

from __future__ import annotations

import pytest

REPOS = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import database_sessionmaker
from models import Book


class Shelf:
    def __init__(self, session: Session):
        self.session = session

    def count(self):
        return len(self.session.scalars(select(Book.id)).all())


class Label:
    def upper(self):
        return "BOOKS"
"""

ROUTES = """
from db.engine import database_sessionmaker
from repos import Label, Shelf

SETUP


@router.get("/count")
async def count(key: str):
    BODY
"""


@pytest.mark.parametrize(("setup", "body"), [
    # filled by a function
    ("POOL = {}\n\n\ndef register(key):\n    POOL[key] = Shelf(database_sessionmaker())", "return {'n': POOL[key].count()}"),
    # a display of instances
    ("POOL = {'books': Shelf(database_sessionmaker())}", "return {'n': POOL.get(key).count()}"),
    # a list appended to, read through a local and in a loop
    ("POOL = []\n\n\ndef register():\n    POOL.append(Shelf(database_sessionmaker()))", "shelf = POOL[0]\n    return {'n': shelf.count()}"),
    ("POOL = []\n\n\ndef register():\n    POOL.append(Shelf(database_sessionmaker()))", "for shelf in POOL:\n        shelf.count()\n    return {}"),
    ("POOL = dict()\nPOOL['books'] = Shelf(database_sessionmaker())", "for shelf in POOL.values():\n        shelf.count()\n    return {}"),
])
def test_a_method_on_an_item_of_a_module_level_pool_is_unverified(app, findings, reported, setup, body):
    root = app(ROUTES.replace("SETUP", setup).replace("BODY", body), {"repos.py": REPOS})
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "runs on an item of the module-level container `POOL`" in found[0]["message"], found
    assert "Shelf.count" in found[0]["message"], found
    assert reported(root, "count", "phase1")["action"] == "keep"


@pytest.mark.parametrize(("setup", "body"), [
    # constants only, never changed: it holds no object
    ("POOL = {'books': 'shelf'}", "return {'n': POOL[key].count('e')}"),
    # filled with displays and constants only (a provider table): a method called on an item is the display's own
    ("POOL = {}\n\n\ndef load():\n    POOL.clear()\n    POOL['g'] = {'name': 'g', 'register': load}\n    POOL.setdefault('h', [])",
     "return {'n': POOL[key].count('e')}"),
    # no project method of that name does Session work
    ("POOL = {'books': Label()}", "return {'n': POOL[key].upper()}"),
    # declared: its items are typed and the call graph follows them (Shelf.count is then an edge: AM301)
])
def test_near_miss_nothing_it_holds_may_do_session_work(app, findings, setup, body):
    root = app(ROUTES.replace("SETUP", setup).replace("BODY", body), {"repos.py": REPOS})
    assert findings(root, "count") == []


def test_declared_items_are_followed_not_unverified(app, findings):
    setup = "POOL: dict[str, Shelf] = {}\n\n\ndef register(key):\n    POOL[key] = Shelf(database_sessionmaker())"
    root = app(ROUTES.replace("SETUP", setup).replace("BODY", "return {'n': POOL[key].count()}"), {"repos.py": REPOS})
    assert [f["code"] for f in findings(root, "count")] == ["AM301"]


# A helper handing out an item of the pool (`return POOL[key]`, or through a local name), the
# caller calling its method: the same item, one call away.
HANDING = """
POOL = {'books': Shelf(database_sessionmaker())}


def shelf_for(key):
    return POOL[key]


def held_shelf_for(key):
    shelf = POOL[key]
    return shelf
"""


@pytest.mark.parametrize("body", [
    "shelf = shelf_for(key)\n    return {'n': shelf.count()}",
    "return {'n': held_shelf_for(key).count()}",
])
def test_a_method_on_an_item_a_helper_returns_is_unverified_and_blocks_phase_two(app, findings, cli, body):
    root = app(ROUTES.replace("SETUP", HANDING).replace("BODY", body), {"repos.py": REPOS})
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "runs on an item of the module-level container `POOL`" in found[0]["message"], found
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    entry = next(h for h in document["handlers"] if h["function"] == "count")
    assert entry["action"] == "blocked", entry


def test_near_miss_a_helper_returning_no_item(app, findings):
    setup = HANDING + "\n\ndef label_for(key):\n    return Label()\n"
    root = app(ROUTES.replace("SETUP", setup).replace("BODY", "return {'n': label_for(key).upper()}"), {"repos.py": REPOS})
    assert findings(root, "count") == []
