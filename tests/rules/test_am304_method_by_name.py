"""AM304 unverified-session beside a method a name known only at run time picks on an object:
`attr = getattr(resource, method_name)` then `attr(*args)`, or `setattr(resource, name, value)`
running a property setter (aim's tracking server, on an object out of its resource pool and a
name out of the request body). The call graph has no edge for either; a method (or setter) it
may pick doing synchronous Session work makes the route unverified, never "no Session work"."""

from __future__ import annotations

import pytest

RESOURCES = """
from sqlalchemy import select

from db.engine import database_sessionmaker
from models import Book


class Shelf:
    def __init__(self):
        self.label = "books"
        self._title = ""

    def count(self):
        with database_sessionmaker() as session:
            return len(session.scalars(select(Book.id)).all())

    @property
    def title(self):
        return self._title

    @title.setter
    def title(self, value):
        with database_sessionmaker() as session:
            session.get(Book, 1)
        self._title = value


class Label:
    def __init__(self):
        self.text = "books"

    def upper(self):
        return self.text.upper()
"""

ROUTES = """
from resources import Label, Shelf

POOL = {}


@router.post("/run/{method_name}")
async def run(key: str, method_name: str):
    BODY
"""


@pytest.mark.parametrize("body", [
    "resource = POOL[key]\n    attr = getattr(resource, method_name)\n    return {'value': attr()}",
    "return {'value': getattr(Shelf(), method_name)()}",
    "resource = POOL[key]\n    setattr(resource, method_name, 'x')\n    return {}",
])
def test_a_method_picked_by_name_at_run_time_is_unverified(app, findings, reported, body):
    root = app(ROUTES.replace("BODY", body), {"resources.py": RESOURCES})
    found = findings(root, "run")
    assert [f["code"] for f in found] == ["AM304"], found
    assert "that `method_name` names at run time" in found[0]["message"], found
    assert "Shelf." in found[0]["message"], found
    assert reported(root, "run", "phase1")["action"] == "keep"


@pytest.mark.parametrize("body", [
    # the object's class has no method doing Session work
    "return {'value': getattr(Label(), method_name)()}",
    # a name written as a constant: an edge the call graph follows (no method of Label works)
    "resource = Label()\n    attr = getattr(resource, 'upper')\n    return {'value': attr()}",
    # read, not called
    "return {'value': getattr(POOL[key], method_name, None)}",
])
def test_near_miss_no_method_it_may_pick_does_session_work(app, findings, body):
    root = app(ROUTES.replace("BODY", body), {"resources.py": RESOURCES})
    assert findings(root, "run") == []


# `getattr(server, name)` picks an attribute, a manager, whose method the route then calls
MANAGERS = """
from resources import Label, Shelf


class Server:
    def __init__(self):
        self.shelf = Shelf()
        self.label = Label()


server = Server()


@router.post("/run/{name}")
async def run(name: str):
    BODY
"""


@pytest.mark.parametrize(("body", "spelled"), [
    ("manager = getattr(server, name)\n    return {'value': manager.count()}", "`manager.count()` runs on the attribute"),
    ("return {'value': getattr(server, name).count()}", "`getattr(server, name).count()` runs on the attribute"),
])
def test_a_method_called_on_an_attribute_picked_by_name_is_unverified(app, findings, reported, body, spelled):
    root = app(MANAGERS.replace("BODY", body), {"resources.py": RESOURCES})
    found = findings(root, "run")
    assert [f["code"] for f in found] == ["AM304"], found
    assert spelled in found[0]["message"] and "Shelf.count" in found[0]["message"], found
    assert reported(root, "run", "phase1")["action"] == "keep"


@pytest.mark.parametrize("body", [
    # no project method of that name does Session work
    "return {'value': getattr(server, name).upper()}",
    # a constant name: the attribute is read, and its method an edge the call graph follows
    "return {'value': getattr(server, 'label').upper()}",
])
def test_near_miss_no_method_of_that_name_does_session_work(app, findings, body):
    root = app(MANAGERS.replace("BODY", body), {"resources.py": RESOURCES})
    assert findings(root, "run") == []


@pytest.mark.parametrize(("body", "spelled"), [
    ("return {'value': getattr(Shelf(), 'co' + method_name)()}", "`'co' + method_name`"),
    ("attr = getattr(Shelf(), f'count_{method_name}')\n    return {'value': attr()}", "`f'count_{method_name}'`"),
    ("return {'value': getattr(Shelf(), method_name.lower())()}", "`method_name.lower()`"),
    ("setattr(Shelf(), method_name.lower(), 'x')\n    return {}", "`method_name.lower()`"),
])
def test_a_name_computed_at_run_time_picks_as_a_bare_name_does(app, findings, reported, body, spelled):
    root = app(ROUTES.replace("BODY", body), {"resources.py": RESOURCES})
    found = findings(root, "run")
    assert [f["code"] for f in found] == ["AM304"], found
    assert f"that {spelled} names at run time" in found[0]["message"], found
    assert reported(root, "run", "phase1")["action"] == "keep"


def test_near_miss_a_constant_name_computed_by_no_code(app, findings):
    # a string constant names one method, an edge the call graph follows: Label.upper does no work
    root = app(ROUTES.replace("BODY", "return {'value': getattr(Label(), 'upper')()}"), {"resources.py": RESOURCES})
    assert findings(root, "run") == []
