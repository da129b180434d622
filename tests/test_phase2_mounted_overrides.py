"""Phase two and a mounted application: its own dependencies, and the tests' overrides of it.

A mounted application's `FastAPI(dependencies=[Depends(f)])` applies to its own routes only: a
dependency there receiving the Session blocks those routes, never the parent's, which move.

A FastAPI application mounted under another (`app.mount("/v2", v2)`) looks its routes'
dependencies up in its own `dependency_overrides`: the tests of a versioned service override the
session dependency on both. An override of the async session dependency on `app` alone leaves
the routes `v2` serves on the real one, on the application's database; `--apply` refuses it, and
writes once the tests override it on `v2` too, where the migrated routes write to the tests'
database through both applications.
"""

from __future__ import annotations

import json
import os

from sample import run_python
from test_phase2_rules import apply, dedent, handler
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MAIN = """
from fastapi import FastAPI

from api.items import router

app = FastAPI()
app.include_router(router)
v2 = FastAPI()
v2.include_router(router)
app.mount("/v2", v2)
"""
ADD = """
@router.post("/items")
def add_item(name: str, db: session_dependency):
    db.add(Item(name=name, owner_id=1))
    db.commit()
    return {"ok": True}
"""
CONFTEST = """
import os

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from db.engine import get_async_db_session, get_db_session
from main import app, v2

test_engine = create_engine(os.environ["TEST_DATABASE_URL"])
TestSync = sessionmaker(test_engine)


def override_db():
    with TestSync() as s:
        yield s


async def override_async_db():
    async with async_sessionmaker(create_async_engine(os.environ["TEST_ASYNC_DATABASE_URL"]))() as s:
        yield s


@pytest.fixture
def client():
    app.dependency_overrides[get_db_session] = override_db
    v2.dependency_overrides[get_db_session] = override_db
    app.dependency_overrides[get_async_db_session] = override_async_db
{v2_async}    with TestClient(app) as c:
        yield c
    app.dependency_overrides.clear()
    v2.dependency_overrides.clear()
"""
V2_ASYNC = "    v2.dependency_overrides[get_async_db_session] = override_async_db\n"
TEST = """
from sqlalchemy import func, select

from db.engine import database_sessionmaker
from models import Item
from tests.conftest import TestSync


def test_both_versions_write_to_the_test_database(client):
    assert client.post("/items", params={"name": "one"}).status_code == 200
    assert client.post("/v2/items", params={"name": "two"}).status_code == 200
    with TestSync() as s:
        assert sorted(s.scalars(select(Item.name))) == ["one", "two"]
    with database_sessionmaker() as s:
        assert s.scalar(select(func.count(Item.id))) == 0
"""
RUN = """
import subprocess, sys, json
from sqlalchemy import create_engine
from models import Base
for url in ("sqlite:///{root}/app.db", "sqlite:///{root}/test.db"):
    Base.metadata.create_all(create_engine(url))
done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], capture_output=True, text=True)
print(json.dumps([done.returncode, done.stdout[-2000:]]))
"""


def _service(service, v2_async: str):  # type: ignore[no-untyped-def]
    return service({
        "main.py": MAIN,
        SUBSYSTEM: routes(ADD),
        "tests/__init__.py": "",
        "tests/conftest.py": dedent(CONFTEST).replace("{v2_async}", v2_async),
        "tests/test_items.py": TEST,
    })


def _own_tests(root) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    env = {
        "PYTHONPATH": str(root),
        "DATABASE_URL": f"sqlite:///{root}/app.db",
        "TEST_DATABASE_URL": f"sqlite:///{root}/test.db",
        "TEST_ASYNC_DATABASE_URL": f"sqlite+aiosqlite:///{root}/test.db",
    }
    result = run_python(dedent(RUN).replace("{root}", str(root)), cwd=root, env={**os.environ, **env})
    assert result.returncode == 0, result.stdout + result.stderr
    code, output = json.loads(result.stdout.strip().splitlines()[-1])
    return code, output


def test_an_async_override_on_the_parent_application_alone_is_a_gap_for_the_mounted_one(cli, service):
    root = _service(service, "")
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    refused = cli("phase2", root, "--subsystem", SUBSYSTEM, "--apply", "--allow-dirty")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.stderr.split())
    assert "tests/conftest.py:29: `v2.dependency_overrides[get_db_session] = override_db`" in said, said
    assert "on the same application, `v2.dependency_overrides`" in said, said
    assert "tests/conftest.py:28:" not in said  # `app`'s is covered by the async override beside it
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == before
    # written anyway, the routes `v2` serves write to the application's database under the tests
    document = apply(cli, root, "--allow-override-gap")
    assert handler(document, "add_item")["action"] == "migrate"
    code, output = _own_tests(root)
    assert code == 1 and "test_both_versions_write_to_the_test_database" in output, output


def test_near_miss_the_async_override_on_both_applications_applies_and_both_write_to_the_test_database(cli, service):
    root = _service(service, V2_ASYNC)
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate"
    assert document["subsystem"]["override_follow_ups"] == []
    code, output = _own_tests(root)
    assert code == 0, output


ME = """
def get_current_user(db: Session = Depends(get_db_session)) -> User:
    return db.get(User, 1)


@router.get("/me")
def me(db: session_dependency, user: User = Depends(get_current_user)):
    return {"user": user.name, "items": db.scalar(select(func.count(Item.id)))}
"""
# The session dependency overridden on both applications at module level; the user's stand-in on
# both in a fixture, and its twin's on `app` alone.
TWIN_CONFTEST = """
import pytest

from db.engine import get_db_session
from main import app, v2
from models import User


def override_get_db():
    yield None


app.dependency_overrides[get_db_session] = override_get_db
v2.dependency_overrides[get_db_session] = override_get_db


@pytest.fixture
def as_bob():
    from api.items import get_current_user, get_current_user_async

    app.dependency_overrides[get_current_user] = lambda: User(id=2, name="Bob")
    v2.dependency_overrides[get_current_user] = lambda: User(id=2, name="Bob")
    app.dependency_overrides[get_current_user_async] = app.dependency_overrides[get_current_user]
"""
ESCAPED = """
from main import v2
from api.items import get_current_user, get_current_user_async

for served in (app, v2):
    served.dependency_overrides[get_current_user] = lambda: User(id=2, name="Bob")
app.dependency_overrides[get_current_user_async] = app.dependency_overrides[get_current_user]
escaped = [client.get("/me").json()["user"], client.get("/v2/me").json()["user"]]
v2.dependency_overrides[get_current_user_async] = v2.dependency_overrides[get_current_user]
reached = client.get("/v2/me").json()["user"]
print(json.dumps([escaped, reached]))
"""


def test_a_twin_overridden_on_the_parent_application_alone_is_a_follow_up_for_the_mounted_one(cli, service):
    root = service({"main.py": MAIN, "tests/__init__.py": "", "tests/conftest.py": TWIN_CONFTEST, SUBSYSTEM: routes(ME)})
    document = apply(cli, root, "--allow-override-gap")
    assert handler(document, "me")["action"] == "migrate"
    notes = [n for n in document["subsystem"]["follow_ups"] if "get_current_user]" in n]
    assert [n.partition(" ")[0] for n in notes] == ["tests/conftest.py:21:"], notes
    assert "`v2.dependency_overrides[get_current_user_async] = v2.dependency_overrides[get_current_user]`" in notes[0]
    # What the note says, run: `v2`'s routes miss the twin's override made on `app` alone.
    assert serve(root, "sqlite", ESCAPED) == [["Bob", "Ann"], "Bob"]


V2_APP = """
from fastapi import Depends, FastAPI, Header, HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import User


def known_user(x_user: int = Header(...), db: Session = Depends(get_db_session)):
    if db.get(User, x_user) is None:
        raise HTTPException(status_code=401)


sub = FastAPI(dependencies=[Depends(known_user)])


@sub.get("/users")
def users(db: Session = Depends(get_db_session)):
    return sorted(db.scalars(select(User.name)).all())
"""
MOUNTING = """
from fastapi import Depends, FastAPI

import v2
from api.items import router

app = FastAPI({dependencies})
app.include_router(router)
app.mount("/v2", v2.sub)
"""
ADDED = """
added = client.post("/items", params={"name": "pen"}).status_code
with Sync() as s:
    stored = s.scalars(select(Item.name)).all()
known = client.get("/v2/users", headers={"X-User": "1"}).json()
unknown = client.get("/v2/users", headers={"X-User": "9"}).status_code
print(json.dumps([added, stored, known, unknown]))
"""


def test_a_mounted_applications_own_dependency_leaves_the_parents_routes_free_to_move(cli, service):
    root = service({"v2.py": V2_APP, "main.py": MOUNTING.replace("{dependencies}", ""), SUBSYSTEM: routes(ADD)})
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")
    assert "async def add_item(" in (root / SUBSYSTEM).read_text(encoding="utf-8")
    assert serve(root, "sqlite", ADDED) == [200, ["pen"], ["Ann", "Bob"], 401]


def test_near_miss_the_parent_applications_own_dependency_still_blocks_its_routes(cli, service):
    main = MOUNTING.replace("{dependencies}", "dependencies=[Depends(v2.known_user)]")
    root = service({"v2.py": V2_APP, "main.py": main, SUBSYSTEM: routes(ADD)})
    document = apply(cli, root)
    found = handler(document, "add_item")
    assert found["action"] == "blocked", found
    assert (
        "(it is a dependency of the router `main.app` (main.py:6), whose list phase two points at the async twin "
        "for every route the router serves, and v2.users stays on the synchronous Session" in found["reasons"][0]
    ), found["reasons"][0]
