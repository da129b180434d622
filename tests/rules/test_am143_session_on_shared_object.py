"""AM143 session-on-shared-object: a handler (or a plain helper it calls in place) stores the
request's Session on an object every request shares (`REGISTRY["Order"].session = db`,
`repo.session = db` on a module-level `repo`, `setattr(REPO, "session", db)`, `Repo.session = db`),
then reads it back through that object. Phase one converted such a route to `def`, where
concurrent requests in the threadpool overwrite each other's store and run their queries on
another request's Session; it now keeps it async with AM143, `check` names the store, and phase
two blocks it."""

from __future__ import annotations

import pytest

REPOS = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Book


class Shelf:
    def __init__(self):
        self.session: Session | None = None

    def count(self):
        return len(self.session.scalars(select(Book.id)).all())


REGISTRY = {"books": Shelf()}
shelf = Shelf()


def shelf_for(key, db):
    REGISTRY[key].session = db
    return REGISTRY[key]
"""

ROUTES = """
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from repos import REGISTRY, Shelf, shelf, shelf_for


@router.get("/count")
async def count(key: str, db: Session = Depends(get_db_session)):
    BODY
"""

SHARED = [
    ('REGISTRY["books"].session = db\n    return {"n": REGISTRY["books"].count()}', "REGISTRY[...].session = db"),
    ('shelf.session = db\n    return {"n": shelf.count()}', "shelf.session = db"),
    ('setattr(shelf, "session", db)\n    return {"n": shelf.count()}', "shelf.session = db"),
    ('Shelf.session = db\n    return {"n": Shelf().count()}', "Shelf.session = db"),
    ('held = REGISTRY["books"]\n    held.session = db\n    return {"n": held.count()}', "held.session = db"),
    ('held = REGISTRY.get(key)\n    held.session = db\n    return {"n": held.count()}', "held.session = db"),
    ('return {"n": shelf_for(key, db).count()}', "REGISTRY[...].session = db"),
]


@pytest.mark.parametrize(("body", "store"), SHARED)
def test_a_session_stored_on_a_shared_object_keeps_the_route_async(app, reported, findings, body, store):
    root = app(ROUTES.replace("BODY", body), {"repos.py": REPOS})
    entry = reported(root, "count", "phase1")
    assert entry["action"] == "keep" and "AM143" in entry["codes"], entry
    reason = entry["reasons"][entry["codes"].index("AM143")]
    assert f"`{store}`" in reason and "an object every request shares" in reason, reason
    found = findings(root, "count")
    assert [f["code"] for f in found] == ["AM301"], found
    assert f"`{store}`" in found[0]["message"], found
    # offloading would await between the store and the use: not offered
    assert "offload-mixed" not in found[0]["message"], found


@pytest.mark.parametrize(("body", "store"), [SHARED[1], SHARED[2], SHARED[3]])
def test_phase_two_blocks_a_route_storing_its_session_on_a_shared_object(app, cli, body, store):
    root = app(ROUTES.replace("BODY", body), {"repos.py": REPOS})
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    entry = next(h for h in document["handlers"] if h["function"] == "count")
    assert entry["action"] == "blocked" and "AM143" in entry["codes"], entry


@pytest.mark.parametrize("body", [
    # an object of the request's own
    'own = Shelf()\n    own.session = db\n    return {"n": own.count()}',
    # something other than the Session on the shared object
    'shelf.label = key\n    db.commit()\n    return {"n": len(key)}',
])
def test_near_miss_nothing_shared_holds_the_session(app, reported, body):
    root = app(ROUTES.replace("BODY", body), {"repos.py": REPOS})
    entry = reported(root, "count", "phase1")
    assert entry["action"] == "convert" and "AM143" not in entry["codes"], entry


def test_near_miss_a_thread_local_is_each_threads_own(app, reported):
    body = '_local.session = db\n    return {"n": len(key)}'
    routes = ROUTES.replace("BODY", body).replace("from repos", "import threading\n\nfrom repos")
    root = app(routes.replace("@router.get", "_local = threading.local()\n\n\n@router.get"), {"repos.py": REPOS})
    entry = reported(root, "count", "phase1")
    assert "AM143" not in entry["codes"], entry


# A module-level singleton whose methods store the Session on `self` or on what `self` holds
# (`services.bind(db)` -> `self.shelf.session = db`), reached through its attributes
# (`services.shelf.use(db)`), or the application's state holding the shared object.
SERVICES = """


class Services:
    def __init__(self):
        self.shelf = Shelf()
        self.session = None

    def bind(self, db):
        self.shelf.session = db

    def bind_deeper(self, db: Session):
        self.shelf.use(db)

    def own(self, db: Session):
        self.session = db

    def tag(self, label: str):
        self.label = label

    @classmethod
    def bind_all(cls, db: Session):
        cls.session = db


services = Services()
"""
REPOS_SERVICES = REPOS.replace("    def count(self):", "    def use(self, db: Session):\n        self.session = db\n\n"
                               "    def count(self):") + SERVICES

THROUGH_SELF = [
    ('services.bind(db)\n    return {"n": services.shelf.count()}', "self.shelf.session = db", "Services.bind"),
    ('services.bind_deeper(db)\n    return {"n": 1}', "self.session = db", "Services.bind_deeper"),
    ('services.own(db)\n    return {"n": 1}', "self.session = db", "Services.own"),
    ('services.shelf.use(db)\n    return {"n": services.shelf.count()}', "self.session = db", "Shelf.use"),
    ('held = services\n    held.bind(db)\n    return {"n": 1}', "self.shelf.session = db", "Services.bind"),
    ('Services.bind_all(db)\n    return {"n": 1}', "cls.session = db", "Services.bind_all"),
    ('request.app.state.services.shelf.session = db\n    return {"n": 1}',
     "request.app.state.services.shelf.session = db", ""),
]


@pytest.mark.parametrize(("body", "store", "helper"), THROUGH_SELF)
def test_a_session_stored_through_a_shared_instance_keeps_the_route_async(app, reported, body, store, helper):
    routes = ROUTES.replace("BODY", body).replace("async def count(key: str,", "async def count(key: str, request: Request,")
    routes = routes.replace("from repos import", "from fastapi import Request\n\nfrom repos import Services, services,")
    root = app(routes, {"repos.py": REPOS_SERVICES})
    entry = reported(root, "count", "phase1")
    assert entry["action"] == "keep" and "AM143" in entry["codes"], entry
    reason = entry["reasons"][entry["codes"].index("AM143")]
    assert f"`{store}`" in reason and "an object every request shares" in reason, reason
    assert helper in reason, reason


@pytest.mark.parametrize("body", [
    # the same class, built for the request
    'own = Services()\n    own.bind(db)\n    return {"n": 1}',
    'Services().own(db)\n    return {"n": 1}',
    # a shared instance's method storing something other than the Session
    'services.tag(key)\n    db.commit()\n    return {"n": 1}',
])
def test_near_miss_a_request_own_instance_or_no_session(app, reported, body):
    routes = ROUTES.replace("BODY", body).replace("from repos import", "from repos import Services, services,")
    root = app(routes, {"repos.py": REPOS_SERVICES})
    entry = reported(root, "count", "phase1")
    assert entry["action"] == "convert" and "AM143" not in entry["codes"], entry


# The shared instance kept on the application's state (in a lifespan or at import) and reached
# through the request: a method call there has no call-graph edge, yet it runs on one object for
# every request (`request.app.state.services.bind(db)` -> `self.shelf.session = db`).
LIFESPAN_MAIN = """
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.items import router
from repos import Services


@asynccontextmanager
async def lifespan(app):
    app.state.services = Services()
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(router)
"""
IMPORT_MAIN = """
from fastapi import FastAPI

from api.items import router
from repos import Services

app = FastAPI()
app.state.services = Services()
app.include_router(router)
"""
THROUGH_STATE = [
    ('request.app.state.services.bind(db)\n    return {"n": 1}', "self.shelf.session = db", "Services.bind"),
    ('request.app.state.services.own(db)\n    return {"n": 1}', "self.session = db", "Services.own"),
    ('request.app.state.services.bind_deeper(db)\n    return {"n": 1}', "self.session = db", "Services.bind_deeper"),
    ('request.app.state.services.shelf.use(db)\n    return {"n": 1}', "self.session = db", "Shelf.use"),
    ('state = request.app.state\n    state.services.bind(db)\n    return {"n": 1}', "self.shelf.session = db",
     "Services.bind"),
    ('held = request.app.state.services\n    held.own(db)\n    return {"n": 1}', "self.session = db", "Services.own"),
]


def _state_routes(body: str) -> str:
    routes = ROUTES.replace("BODY", body).replace("async def count(key: str,", "async def count(key: str, request: Request,")
    return routes.replace("from repos import", "from fastapi import Request\n\nfrom repos import")


@pytest.mark.parametrize("main", [LIFESPAN_MAIN, IMPORT_MAIN], ids=["lifespan", "import"])
@pytest.mark.parametrize(("body", "store", "helper"), THROUGH_STATE)
def test_a_session_stored_by_a_method_of_what_the_app_state_keeps_keeps_the_route_async(
    app, reported, main, body, store, helper
):
    root = app(_state_routes(body), {"repos.py": REPOS_SERVICES, "main.py": main})
    entry = reported(root, "count", "phase1")
    assert entry["action"] == "keep" and "AM143" in entry["codes"], entry
    reason = entry["reasons"][entry["codes"].index("AM143")]
    assert f"`{store}`" in reason and "an object every request shares" in reason, reason
    assert helper in reason, reason


@pytest.mark.parametrize("body", [
    # the same class, built for the request
    'own = Services()\n    own.bind(db)\n    return {"n": 1}',
    # what the application's state keeps, storing something other than the Session
    'request.app.state.services.tag(key)\n    db.commit()\n    return {"n": 1}',
    # per request: the request's own state
    'request.state.services = Services()\n    request.state.services.bind(db)\n    return {"n": 1}',
])
def test_near_miss_a_per_request_object_or_no_session_through_the_state(app, reported, body):
    root = app(_state_routes(body), {"repos.py": REPOS_SERVICES, "main.py": LIFESPAN_MAIN})
    entry = reported(root, "count", "phase1")
    assert entry["action"] == "convert" and "AM143" not in entry["codes"], entry


@pytest.mark.parametrize(("body", "main"), [
    ('request.app.state.services.bind(db)\n    return {"n": 1}', LIFESPAN_MAIN),
    ('state = request.app.state\n    state.services.own(db)\n    return {"n": 1}', IMPORT_MAIN),
    ('services.bind(db)\n    return {"n": 1}', LIFESPAN_MAIN),
])
def test_phase_two_blocks_a_route_storing_its_session_through_a_shared_instance(app, cli, body, main):
    routes = _state_routes(body).replace("from repos import", "from repos import services,")
    root = app(routes, {"repos.py": REPOS_SERVICES, "main.py": main})
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    entry = next(h for h in document["handlers"] if h["function"] == "count")
    assert entry["action"] == "blocked" and "AM143" in entry["codes"], (entry["codes"], entry["reasons"])
    reason = entry["reasons"][entry["codes"].index("AM143")]
    assert "an object every request shares" in reason, reason


def test_near_miss_phase_two_a_request_own_instance_is_no_shared_store(app, cli):
    routes = _state_routes('own = Services()\n    own.bind(db)\n    return {"n": 1}')
    root = app(routes.replace("from repos import", "from repos import Services,"),
               {"repos.py": REPOS_SERVICES, "main.py": LIFESPAN_MAIN})
    document = cli.json("phase2", root, "--subsystem", "api/items.py")
    entry = next(h for h in document["handlers"] if h["function"] == "count")
    assert "AM143" not in entry["codes"], entry
