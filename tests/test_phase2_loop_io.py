"""Phase two moving a `def` route onto the event loop that reaches blocking I/O which is no
Session work (`time.sleep`, `requests.get`, a method of a module-level `requests.Session()` or
`redis.Redis()`, also handed down to a helper's parameter): phase one's `def` ran it in the
threadpool, the `async def` runs it on the loop, and `check` (Session work only) says nothing,
so phase two names it in a follow-up."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, dedent, handler, run
from test_phase2_soundness import SUBSYSTEM, routes, serve, service

__all__ = ["service"]

AUDIT = """
import time

written: list[str] = []


def pause(name: str) -> None:
    time.sleep(0)
    written.append(name)
"""
ROUTES = """
import audit


@router.post("/items")
def add_item(name: str, db: Session = Depends(get_db_session)):
    item = Item(name=name, owner_id=1)
    db.add(item)
    db.commit()
    audit.pause(name)
    return {"id": item.id}


@router.get("/items/count")
def count_items(db: Session = Depends(get_db_session)):
    return db.scalar(select(func.count()).select_from(Item))
"""


def _notes(document: dict) -> list[str]:
    return [n for n in document["subsystem"]["follow_ups"] if "blocking I/O" in n]


def test_a_migrated_route_reaching_a_blocking_call_gets_a_follow_up_and_runs(cli, service):
    root = service({"audit.py": AUDIT, SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    notes = _notes(document)
    assert len(notes) == 1, document["subsystem"]["follow_ups"]
    assert notes[0].startswith(f"{SUBSYSTEM}:") and "add_item now runs on the event loop" in notes[0], notes
    assert "pause() -> `time.sleep()` (audit.py:7)" in notes[0], notes
    result = serve(root, "sqlite", dedent(
        """
        made = client.post("/items", params={"name": "a"}).json()
        import audit
        print(json.dumps({"count": client.get("/items/count").json(), "written": audit.written}))
        """
    ))
    assert result == {"count": 1, "written": ["a"]}


CLIENTS = """
import httpx
import redis
from requests import Session

session = Session()
cache = redis.Redis()
remote = httpx.AsyncClient()


def fetch(key):
    return session.get(key).json()


def convert(price, session=session):
    return price * session.get("rate").json()


def convert_with(price, client):
    return price * client.get("rate").json()


def cached(key):
    return cache.get(key)


async def fetch_async(key):
    return (await remote.get(key)).json()
"""


@pytest.mark.parametrize(("call", "named"), [
    ("fetch('k')", "fetch() -> `session.get()` (requests.Session)"),
    ("convert(2)", "convert() -> `session.get()` (requests.Session)"),
    ("convert_with(2, clients.session)", "convert_with() -> `client.get()` (requests.Session)"),
    ("cached('k')", "cached() -> `cache.get()` (redis.Redis)"),
])
def test_a_module_level_sync_client_reached_from_a_migrated_route(cli, service, call, named):
    root = service({"clients.py": CLIENTS, SUBSYSTEM: routes(f"""
        import clients
        from clients import cached, convert, convert_with, fetch


        @router.get("/items/{{item_id}}")
        def read(item_id: int, db: Session = Depends(get_db_session)):
            item = db.get(Item, item_id)
            return {{"id": item.id, "got": {call}}}
    """)})
    notes = _notes(run(cli, root))
    assert len(notes) == 1 and named in notes[0], notes


@pytest.mark.parametrize("route", [
    # already on the loop before phase two (an async def phase one kept for its await)
    "async def read(item_id: int, db: Session = Depends(get_db_session)):\n"
    "    await fetch_async('k')\n"
    "    return {'id': db.get(Item, item_id).id, 'got': fetch('k')}",
    # a parameter handed something else replaces the default client
    "def read(item_id: int, db: Session = Depends(get_db_session)):\n"
    "    return {'id': db.get(Item, item_id).id, 'got': convert(2, session=FAKE)}",
    # a project object's `get()`, held in a name a client would have
    "def read(item_id: int, db: Session = Depends(get_db_session)):\n"
    "    return {'id': db.get(Item, item_id).id, 'got': session.get('k')}",
])
def test_near_miss_no_blocking_call_moves_onto_the_loop(cli, service, route):
    root = service({"clients.py": CLIENTS, SUBSYSTEM: routes(
        "from clients import convert, fetch, fetch_async\n\n\n"
        "class Registry:\n    def get(self, key):\n        return key\n\n\n"
        "FAKE = object()\nsession = Registry()\n\n\n@router.get('/items/{item_id}')\n" + route
    )})
    document = run(cli, root)
    assert handler(document, "read")["action"] == "migrate", document
    assert _notes(document) == []


SERVICE = """
import httpx
from fastapi import Depends
from sqlalchemy.orm import Session

from db.engine import get_db_session
from models import Item


class ItemService:
    def __init__(self, db: Session = Depends(get_db_session)):
        self.db = db
        self.session = {client}

    def count_remote(self):
        self.db.get(Item, 1)
        return self.session.get("/n")
"""


@pytest.mark.parametrize(("client", "noted"), [
    ("httpx.Client(base_url='http://x')", True),
    # an async client's `get()` must be awaited, which a plain method cannot: a coroutine, no I/O
    ("httpx.AsyncClient(base_url='http://x')", False),
])
def test_a_client_an_instance_holds_reached_from_a_migrated_route(cli, service, client, noted):
    root = service({"services.py": SERVICE.format(client=client), SUBSYSTEM: routes("""
        from services import ItemService


        @router.get("/remote")
        def remote(svc: ItemService = Depends()):
            return {"n": str(svc.count_remote())}
    """)})
    document = run(cli, root)
    assert handler(document, "remote")["action"] == "migrate", handler(document, "remote")["reasons"]
    notes = _notes(document)
    if noted:
        assert len(notes) == 1 and "ItemService.count_remote() -> `self.session.get()` (httpx.Client)" in notes[0], notes
    else:
        assert notes == []
