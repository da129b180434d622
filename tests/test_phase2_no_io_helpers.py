"""A helper that only uses Session methods doing no I/O (`db.add(obj)`) is no blocking work.

`AsyncSession.add()`, `add_all()`, `expunge()`, `expire()` are plain methods, as on a Session:
such a helper blocks nothing. Phase one counted it as blocking Session work (with
`--offload-mixed` it wrapped the call in `run_in_threadpool`), and phase two moved it to `async
def` and awaited it. Now phase one leaves its call alone, and phase two keeps it a plain `def`
taking the AsyncSession, called as before; the migrated route runs on each database and the row is
written. A helper that also flushes still does I/O: offloaded by phase one, awaited by phase two.
"""

from __future__ import annotations

import pytest
import test_phase2_soundness
from phase2_kit import KINDS
from test_phase2_rules import apply, function, handler, read
from test_phase2_soundness import SUBSYSTEM, routes, serve

service = test_phase2_soundness.service  # the small application on the sync stack

STAGE = """
def stage_item(db: Session, item: Item) -> None:
    db.add(item)
"""
FLUSH = """
def stage_item(db: Session, item: Item) -> None:
    db.add(item)
    db.flush()
"""
ROUTE = """
@router.post("/items", status_code=201)
def create_item(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    stage_item(db, item)
    db.commit()
    return {"id": item.id, "name": item.name}
"""
MIXED = """
import asyncio


@router.post("/items", status_code=201)
async def create_item(name: str, db: session_dependency):
    await asyncio.sleep(0)
    item = Item(name=name, owner_id=1)
    stage_item(db, item)
    db.commit()
    return {"id": item.id, "name": item.name}
"""


def test_phase_one_does_not_offload_a_helper_that_only_adds(cli, service):
    root = service({SUBSYSTEM: routes(STAGE, MIXED)})
    document = cli.json("phase1", root, "--offload-mixed", "--apply", "--allow-dirty")
    found = handler(document, "create_item")
    assert found["action"] == "keep", found
    text = " ".join(found["reasons"])
    assert "stage_item" not in text and "db.commit()" in text, found["reasons"]
    assert "run_in_threadpool" not in read(root, SUBSYSTEM)


def test_near_miss_phase_one_offloads_a_helper_that_flushes(cli, service):
    root = service({SUBSYSTEM: routes(FLUSH, MIXED)})
    cli.json("phase1", root, "--offload-mixed", "--apply", "--allow-dirty")
    assert "await run_in_threadpool(stage_item, db, item)" in read(root, SUBSYSTEM)


@pytest.mark.parametrize("kind", KINDS)
def test_phase_two_calls_a_helper_that_only_adds_as_it_is_and_the_row_is_written(cli, service, kind):
    root = service({SUBSYSTEM: routes(STAGE, ROUTE)})
    document = apply(cli, root)
    found = handler(document, "create_item")
    assert found["action"] == "migrate", found
    assert any("calls api.items.stage_item plainly, neither awaited nor in a thread" in r for r in found["reasons"])
    assert function(root, SUBSYSTEM, "stage_item").startswith("def stage_item(db: AsyncSession, item: Item)")
    route = function(root, SUBSYSTEM, "create_item")
    assert "    stage_item(db, item)\n" in route and "await stage_item" not in route, route
    assert "run_in_threadpool" not in read(root, SUBSYSTEM)
    result = serve(root, kind, """
        answer = client.post("/items", params={"name": "pen"})
        with Sync() as s:
            stored = [i.name for i in s.scalars(select(Item))]
        print(json.dumps({"status": answer.status_code, "name": answer.json()["name"], "stored": stored}))
    """)
    assert result == {"status": 201, "name": "pen", "stored": ["pen"]}


def test_near_miss_phase_two_awaits_a_helper_that_flushes(cli, service):
    root = service({SUBSYSTEM: routes(FLUSH, ROUTE)})
    apply(cli, root)
    assert function(root, SUBSYSTEM, "stage_item").startswith("async def stage_item(db: AsyncSession")
    assert "await stage_item(db, item)" in function(root, SUBSYSTEM, "create_item")


SHARED = """
from fastapi import APIRouter

from api.items import stage_item
from core.dependencies import session_dependency
from models import Item

router = APIRouter()


@router.post("/others", status_code=201)
def create_other(name: str, db: session_dependency):
    item = Item(name=name, owner_id=1)
    stage_item(db, item)
    db.commit()
    return {"id": item.id}
"""


def test_phase_two_gives_a_shared_helper_that_only_adds_a_plain_twin_called_unawaited(cli, service):
    root = service({SUBSYSTEM: routes(STAGE, ROUTE), "api/others.py": SHARED})
    document = apply(cli, root)
    assert handler(document, "create_item")["action"] == "migrate", handler(document, "create_item")
    assert function(root, SUBSYSTEM, "stage_item").startswith("def stage_item(db: Session, item: Item)")
    assert function(root, SUBSYSTEM, "stage_item_async").startswith("def stage_item_async(db: AsyncSession")
    assert "    stage_item_async(db, item)\n" in function(root, SUBSYSTEM, "create_item")
