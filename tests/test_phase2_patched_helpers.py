"""The tests' patches of helpers phase two twins or makes `async def`.

A test standing in for a service function the routes call (`monkeypatch.setattr(users,
"find_user", fake)`, `patch("services.users.count_items", new=...)`) patched what the routes
looked up. Once a helper keeps its synchronous original for a script, the migrated routes call
its twin, which the patch does not reach; once it becomes `async def` in place, they await the
stand-in, and a plain one raises TypeError. Phase two names each such patch in a follow-up.
"""

from __future__ import annotations

from test_phase2_rules import apply
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

USERS = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Item, User


def find_user(db: Session, name: str) -> User | None:
    return db.scalar(select(User).where(User.name == name))


def count_items(db: Session) -> int:
    return db.scalar(select(func.count(Item.id)))
"""
# a script keeps find_user's synchronous original: the routes get find_user_async
SCRIPT = """
from db.engine import database_sessionmaker
from services.users import find_user


def main() -> None:
    with database_sessionmaker() as db:
        print(find_user(db, "Ann"))
"""
WHO = """
from services import users


@router.get("/who/{name}")
def who(name: str, db: session_dependency):
    return {"found": users.find_user(db, name) is not None}


@router.get("/count")
def count(db: session_dependency):
    return {"n": users.count_items(db)}
"""
TESTS = """
from unittest.mock import AsyncMock, patch

from models import User
from services import users


def test_who_finds_a_stand_in(monkeypatch):
    monkeypatch.setattr(users, "find_user", lambda db, name: User(id=9, name=name))


def test_count_of_a_stand_in(monkeypatch):
    monkeypatch.setattr("services.users.count_items", lambda db: 42)


def test_count_mocked():
    with patch("services.users.count_items", return_value=42):
        pass
    with patch.object(users, "count_items", new=AsyncMock(return_value=42)):
        pass


def test_who_mocked(mocker):
    mocker.patch("services.users.find_user", return_value=None)
"""
RUN = """
from unittest.mock import patch

import services.users as users

with patch.object(users, "find_user", lambda db, name: User(id=9, name=name)):
    escaped = client.get("/who/Zed").json()["found"]


async def fake(db, name):
    return User(id=9, name=name)


with patch.object(users, "find_user_async", fake):
    reached = client.get("/who/Zed").json()["found"]
try:
    with patch.object(users, "count_items", lambda db: 42):
        client.get("/count")
    plain = "ran"
except TypeError:
    plain = "TypeError"
with patch("services.users.count_items", return_value=42):
    mocked = client.get("/count").json()["n"]
print(json.dumps([escaped, reached, plain, mocked]))
"""


def _root(service):  # type: ignore[no-untyped-def]
    return service({
        "services/__init__.py": "",
        "services/users.py": USERS,
        "scripts/__init__.py": "",
        "scripts/report.py": SCRIPT,
        "tests/__init__.py": "",
        "tests/test_who.py": TESTS,
        SUBSYSTEM: routes(WHO),
    })


def test_patches_of_twinned_and_in_place_helpers_are_follow_ups(cli, service):
    root = _root(service)
    document = apply(cli, root, "--allow-override-gap")
    notes = [n for n in document["subsystem"]["follow_ups"] if n.startswith("tests/test_who.py")]
    assert len(notes) == 3, document["subsystem"]["follow_ups"]
    twinned, in_place, mocked = notes
    assert twinned.startswith(
        'tests/test_who.py:8: `monkeypatch.setattr(users, "find_user", lambda db, name: User(id=9, name=name))` '
        "stands in for `services.users.find_user`; the migrated routes (who) call its async twin `find_user_async` "
        "instead, so a request to them under this test runs the real `find_user_async`: patch `find_user_async` as well"
    ), twinned
    assert in_place.startswith(
        'tests/test_who.py:12: `monkeypatch.setattr("services.users.count_items", lambda db: 42)` stands in for '
        "`services.users.count_items`, which phase two makes `async def`; the migrated routes (count) await"
    ), in_place
    # a mock patch() makes itself stands in for an async def as an AsyncMock: no note for it, but the
    # twin is missed whatever the stand-in
    assert mocked.startswith('tests/test_who.py:23: `mocker.patch("services.users.find_user", return_value=None)`')
    # What the notes say, run on the migrated service.
    assert serve(root, "sqlite", RUN) == [False, True, "TypeError", 42]


def test_near_miss_awaitable_stand_ins_and_helpers_that_stay_are_left_alone(cli, service):
    tests = TESTS.replace("lambda db: 42", "AsyncMock(return_value=42)").replace(
        '    monkeypatch.setattr(users, "find_user", lambda db, name: User(id=9, name=name))\n',
        '    monkeypatch.setattr(users, "find_user_by_mail", lambda db, name: None)\n',
    ).replace('    mocker.patch("services.users.find_user", return_value=None)\n', "    pass\n")
    root = service({
        "services/__init__.py": "",
        "services/users.py": USERS + "\n\ndef find_user_by_mail(db, mail):\n    return None\n",
        "scripts/__init__.py": "",
        "scripts/report.py": SCRIPT,
        "tests/__init__.py": "",
        "tests/test_who.py": tests,
        SUBSYSTEM: routes(WHO),
    })
    document = apply(cli, root, "--allow-override-gap")
    assert not [n for n in document["subsystem"]["follow_ups"] if n.startswith("tests/")], document["subsystem"]
