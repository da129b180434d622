"""A route checking state every request shares and then changing it (`if key in SEEN: 409`, ...,
`SEEN.add(key)`), run under concurrent requests: phase one keeps it `async def` (AM140; as `def`
two threadpool threads would both pass the check) and phase two leaves it on the synchronous
Session (AM286; an `await db.commit()` in between would let another request pass it), while the
route beside it moves. RUN posts the same key from 8 threads: exactly one import, on SQLite,
PostgreSQL and MariaDB."""

from __future__ import annotations

import pytest
from test_phase2_rules import apply, function, handler
from test_phase2_soundness import KINDS, SUBSYSTEM, routes, serve, service

__all__ = ["service"]  # the fixture, used by name

ROUTES = """
from fastapi import HTTPException

SEEN_KEYS: set[str] = set()


@router.post("/imports/{key}")
async def import_once(key: str, db: session_dependency):
    if key in SEEN_KEYS:
        raise HTTPException(status_code=409, detail="duplicate import")
    db.add(Item(name=key, owner_id=1))
    db.commit()
    SEEN_KEYS.add(key)
    return {"imported": key}


@router.get("/items")
def list_items(db: session_dependency):
    return [item.name for item in db.scalars(select(Item).order_by(Item.id))]
"""
RUN = """
from concurrent.futures import ThreadPoolExecutor

with ThreadPoolExecutor(8) as pool:
    codes = sorted(pool.map(lambda _: client.post("/imports/acme").status_code, range(8)))
with Sync() as s:
    rows = s.scalar(select(func.count()).select_from(Item).where(Item.name == "acme"))
print(json.dumps([codes, rows, client.get("/items").json()]))
"""


def test_phase_one_keeps_the_check_then_act_route_and_one_request_imports(cli, service):
    root = service({SUBSYSTEM: routes(ROUTES)})
    document = cli.json("phase1", root, "--apply")
    (found,) = [h for h in document["handlers"] if h["function"] == "import_once"]
    assert (found["action"], found["codes"][0]) == ("keep", "AM140"), found
    assert "checks `SEEN_KEYS` (`key in SEEN_KEYS` at line" in found["reasons"][0], found
    assert function(root, SUBSYSTEM, "import_once").startswith("async def import_once"), function(root, SUBSYSTEM, "import_once")
    assert serve(root, "sqlite", RUN) == [[200] + [409] * 7, 1, ["acme"]]


@pytest.mark.parametrize("kind", KINDS)
def test_phase_two_blocks_the_check_then_act_route_and_one_request_imports(cli, service, kind):
    root = service({SUBSYSTEM: routes(ROUTES)})
    document = apply(cli, root)
    found = handler(document, "import_once")
    assert (found["action"], found["codes"]) == ("blocked", ["AM286"]), found
    assert "phase two would await `db.commit()` at line" in found["reasons"][0], found
    assert "db.commit()\n    SEEN_KEYS.add(key)" in function(root, SUBSYSTEM, "import_once")  # left as it was
    assert handler(document, "list_items")["action"] == "migrate"
    assert function(root, SUBSYSTEM, "list_items").startswith("async def list_items")
    assert serve(root, kind, RUN) == [[200] + [409] * 7, 1, ["acme"]]
