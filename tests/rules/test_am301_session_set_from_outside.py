"""AM301 blocking-session beside a repository whose Session attribute is declared empty and set
from outside: `self.session: Session | None = None` (or `Optional[Session]`, no annotation, a
class-level `session: Session | None = None`) in the class, then `repo.session = db` in a
dependency, or `repo.bind(db)`. The route calling `repo.count()` took no Session itself, and the
methods' `self.session.execute(...)` read as no Session work: check passed it, phase one kept it
(AM105) and phase two left it. An annotation naming the Session, and a store of a Session into
the attribute from outside the class, now make the attribute hold one."""

from __future__ import annotations

import pytest

REPO = """
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Book


class Repo:
    DECLARATION

    def bind(self, db):
        self.session = db

    def count(self):
        return len(self.session.scalars(select(Book.id)).all())
"""

ROUTES = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from repos import Repo


def get_repo(db: Session = Depends(get_db_session)):
    repo = Repo()
    STORE
    return repo


@router.get("/count")
async def count(repo: Repo = Depends(get_repo)):
    return {"n": repo.count()}
"""

DECLARATIONS = [
    "def __init__(self):\n        self.session: Session | None = None",
    "def __init__(self):\n        self.session: Optional[Session] = None",
    "def __init__(self):\n        self.session = None",
    "session: Session | None = None",
]
STORES = ["repo.session = db", "repo.bind(db)", "setattr(repo, \"session\", db)"]


@pytest.mark.parametrize("declaration", DECLARATIONS)
@pytest.mark.parametrize("store", STORES)
def test_a_session_set_on_the_repository_from_outside_is_session_work(app, findings, reported, declaration, store):
    root = app(ROUTES.replace("STORE", store), {"repos.py": REPO.replace("DECLARATION", declaration)})
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM301"], found
    assert "Repo.count" in found[0]["message"], found
    entry = reported(root, "count", "phase1")
    assert (entry["action"], entry["codes"]) == ("convert", ["AM123"]), entry


def test_declared_alone_the_attribute_holds_a_session(app, findings):
    # set by code the analysis cannot read: the annotation says what it holds
    routes = ROUTES.replace("STORE", "setup(repo)").replace("from repos import Repo", "from repos import Repo\nfrom vendor import setup")
    root = app(routes, {"repos.py": REPO.replace("DECLARATION", DECLARATIONS[0]).replace("self.session = db", "pass")})
    assert [f["code"] for f in findings(root, "count")] == ["AM301"]


# The route itself storing its Session: phase two migrated it and left `Repo.count` synchronous on
# what became an AsyncSession.
IN_ROUTE = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from repos import Repo


@router.get("/count")
async def count(db: Session = Depends(get_db_session)):
    repo = Repo()
    STORE
    return {"n": repo.count()}
"""


@pytest.mark.parametrize("routes", [ROUTES, IN_ROUTE])
@pytest.mark.parametrize("store", ["repo.session = db", "repo.bind(db)"])
def test_phase_two_blocks_the_route_rather_than_leave_the_repository_synchronous(cli, app, store, routes):
    root = app(routes.replace("STORE", store), {"repos.py": REPO.replace("DECLARATION", DECLARATIONS[2])})
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    entry = next(h for h in document["handlers"] if h["function"] == "count")
    assert entry["action"] == "blocked", entry


CLIENT = """
import httpx


class Client:
    def __init__(self):
        self.session = None

    def count(self):
        return len(self.session.get("https://example.com/books").json())
"""


@pytest.mark.parametrize("store", ["client.session = httpx.Client()", "other.session = db"])
def test_near_miss_no_session_reaches_that_class(app, findings, reported, store):
    # an HTTP client stored from outside; a Session stored on another class's instance
    routes = """
    import httpx
    from fastapi import Depends
    from sqlalchemy.orm import Session

    from clients import Client
    from db.engine import get_db_session
    from repos import Repo


    def get_client(db: Session = Depends(get_db_session)):
        client = Client()
        other = Repo()
        STORE
        return client


    @router.get("/count")
    async def count(client: Client = Depends(get_client)):
        return {"n": client.count()}
    """.replace("STORE", store)
    root = app(routes, {"clients.py": CLIENT, "repos.py": REPO.replace("DECLARATION", DECLARATIONS[2])})
    assert findings(root, "count") == []
    assert reported(root, "count", "phase1")["codes"] == ["AM105"]
