"""Phase two and the Session a middleware keeps on the request (`request.state.db`) handed to
project code, proved by running.

Phase two replaces only a Session a route receives from the session dependency. A route that
builds a repository on `request.state.db` (`ItemRepo(request.state.db)`, a classmethod factory
`ItemRepo.from_session(db)` after `db = request.state.db`) or hands it to a helper under a local
name would, migrated, give the class or helper it moves to AsyncSession the synchronous Session:
`await` on what its methods return fails on every request. Such a route is blocked, naming where
the middleware opens that Session; a route of the same subsystem on the session dependency
migrates, and the class it shares with the blocked ones gets a parallel async class.

As in test_phase2_soundness: migrated with `phase2 --apply`, then RUN with TestClient, and the
database read back through a separate synchronous session.
"""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, handler, read
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

MAIN = """
from fastapi import FastAPI, Request

from api.items import router
from db.engine import database_sessionmaker

app = FastAPI()


@app.middleware("http")
async def db_session_middleware(request: Request, call_next):
    request.state.db = database_sessionmaker()
    try:
        return await call_next(request)
    finally:
        request.state.db.close()


app.include_router(router)
"""
REPO = """
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Item


class ItemRepo:
    def __init__(self, db: Session) -> None:
        self.db = db

    @classmethod
    def from_session(cls, db: Session):
        return cls(db)

    def add(self, name: str) -> Item:
        item = Item(name=name, owner_id=1)
        self.db.add(item)
        self.db.commit()
        return item

    def count(self) -> int:
        return self.db.scalar(select(func.count()).select_from(Item))


def count_items(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Item))
"""
ROUTES = """
from fastapi import Request

from repo import ItemRepo, count_items


@router.post("/items")
def add_item(name: str, db: session_dependency):
    item = ItemRepo(db).add(name)
    return {"id": item.id}


@router.get("/built")
def built_count(request: Request):
    return {"count": ItemRepo(request.state.db).count()}


@router.get("/factory")
def factory_count(request: Request):
    db = request.state.db
    return {"count": ItemRepo.from_session(db).count()}


@router.get("/handed")
def handed_count(request: Request):
    db = request.state.db
    return {"count": count_items(db)}
"""
RUN = """
    created = [client.post("/items", params={"name": n}).json() for n in ("a", "b")]
    counts = [client.get(p).json() for p in ("/built", "/factory", "/handed")]
    with Sync() as s:
        rows = list(s.scalars(select(Item.name).order_by(Item.id)))
    print(json.dumps({"created": created, "counts": counts, "rows": rows}))
"""
WRITTEN = {"created": [{"id": 1}, {"id": 2}], "counts": [{"count": 2}] * 3, "rows": ["a", "b"]}
STATE = ["built_count", "factory_count", "handed_count"]


@pytest.mark.parametrize("kind", KINDS)
def test_routes_handing_the_request_state_session_on_are_blocked_and_the_others_write(cli, service, kind):
    root = service({"main.py": MAIN, "repo.py": REPO, SUBSYSTEM: routes(ROUTES)})
    assert serve(root, kind, RUN) == WRITTEN
    document = apply(cli, root)
    assert handler(document, "add_item")["action"] == "migrate", handler(document, "add_item")["reasons"]
    for route in STATE:
        found = handler(document, route)
        assert (found["action"], found["codes"]) == ("blocked", ["AM241"]), (route, found)
        assert "the Session opened on `request.state.db` for each request (main.py:11)" in found["reasons"][0], found
    # the blocked routes keep the synchronous class; the migrated one builds its async copy
    assert "class ItemRepoAsync:" in read(root, "repo.py")
    assert "ItemRepo(request.state.db).count()" in read(root, SUBSYSTEM)
    assert serve(root, kind, RUN) == WRITTEN
